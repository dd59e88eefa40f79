/* Keyboard for the review pages. Workbench: j/k move the focus through the queue, Enter opens.
   Review page: j/k next/previous request, p marks every checklist item as passed, a approves, r returns
   (the decision buttons also carry accesskeys). Keys are ignored while typing in a field. */
(function () {
  "use strict";
  function typing(e) {
    var t = e.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) && t.type !== "radio";
  }
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-keyboard-list] tbody tr[data-href]"));
  var current = -1;
  function focusRow(i) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, n) { r.classList.toggle("rv-focus", n === current); });
    var link = rows[current].querySelector("a");
    if (link) link.focus();
  }
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || typing(e)) return;
    var key = e.key;
    if (rows.length) {
      if (key === "j") { focusRow(current + 1); e.preventDefault(); }
      else if (key === "k") { focusRow(current - 1); e.preventDefault(); }
      return;
    }
    if (key === "p") {
      document.querySelectorAll('#decision-form input[type=radio][value=pass]').forEach(function (r) { r.checked = true; });
      e.preventDefault();
      return;
    }
    if (key === "r") {
      var comment = document.querySelector("#decision-form textarea");
      if (comment && !comment.value.trim()) { comment.focus(); e.preventDefault(); return; }
    }
    var target = document.querySelector('[data-key="' + key + '"]');
    if (target) { e.preventDefault(); target.click(); }
  });
  var allPass = document.querySelector("[data-all-pass]");
  if (allPass) allPass.addEventListener("click", function () {
    document.querySelectorAll('#decision-form input[type=radio][value=pass]').forEach(function (r) { r.checked = true; });
  });
})();
