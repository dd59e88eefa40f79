// Application form: show what a multi-select holds, since chosen options can be scrolled out of view.
// The form carries the translated labels (data-selected-label, data-none-selected-label).
document.querySelectorAll("select[multiple][data-show-selected]").forEach(function (select) {
  var labels = select.form.dataset;
  var summary = document.createElement("p");
  summary.className = "help selected-summary";
  summary.setAttribute("aria-live", "polite");
  select.insertAdjacentElement("afterend", summary);
  var update = function () {
    var names = Array.from(select.selectedOptions).map(function (o) { return o.text; });
    summary.textContent = names.length ? labels.selectedLabel + names.join("; ") : labels.noneSelectedLabel;
  };
  select.addEventListener("change", update);
  update();
});
