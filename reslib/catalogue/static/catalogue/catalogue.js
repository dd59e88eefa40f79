/* Search box autocomplete (htmx fetches the list; this adds keyboard use and closing) — ResLib catalogue. */
(function () {
  "use strict";
  function boxes() { return document.querySelectorAll("[data-search-box]"); }
  function setup(form) {
    var input = form.querySelector("input[name=q]");
    var panel = form.querySelector(".suggestions");
    if (!input || !panel) return;
    function links() { return Array.prototype.slice.call(panel.querySelectorAll("a")); }
    function open(state) {
      panel.hidden = !state;
      input.setAttribute("aria-expanded", state && links().length ? "true" : "false");
    }
    function move(step) {
      var items = links();
      if (!items.length) return;
      var index = items.indexOf(document.activeElement);
      var next = index + step;
      if (next < 0) { input.focus(); return; }
      if (next >= items.length) next = items.length - 1;
      items[next].focus();
    }
    form.addEventListener("htmx:afterSwap", function () { open(true); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { e.preventDefault(); open(true); move(1); }
      else if (e.key === "Escape") { open(false); }
    });
    panel.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") { e.preventDefault(); move(1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); move(-1); }
      else if (e.key === "Escape") { open(false); input.focus(); }
    });
    input.addEventListener("focus", function () { if (links().length) open(true); });
    document.addEventListener("click", function (e) { if (!form.contains(e.target)) open(false); });
    form.addEventListener("submit", function () { open(false); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(boxes(), setup);
  });
})();
