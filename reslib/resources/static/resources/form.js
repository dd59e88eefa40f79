// Resource form: add, remove and renumber the author rows.
(function () {
  var box = document.querySelector("[data-author-rows]");
  if (!box) return;
  function renumber() {
    box.querySelectorAll("[data-author-row]").forEach(function (row, i) { row.querySelector("[data-pos]").textContent = (i + 1) + "."; });
  }
  document.querySelector("[data-add-author]").addEventListener("click", function () {
    var rows = box.querySelectorAll("[data-author-row]");
    var copy = rows[rows.length - 1].cloneNode(true);
    copy.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    box.appendChild(copy);
    renumber();
    copy.querySelector("input").focus();
  });
  box.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-author]");
    if (!button) return;
    var rows = box.querySelectorAll("[data-author-row]");
    var row = button.closest("[data-author-row]");
    if (rows.length > 1) { row.remove(); } else { row.querySelectorAll("input").forEach(function (i) { i.value = ""; }); }
    renumber();
  });
})();
