// Question form: show the part of the chosen type, add and remove rows, one correct choice for single choice.
(function () {
  var form = document.querySelector("[data-question-form]");
  if (!form) return;
  var qtype = form.querySelector("select[name=qtype]");

  function renumber(box) {
    box.querySelectorAll("[data-row]").forEach(function (row, i) {
      var marker = row.querySelector("[data-index]");
      if (marker) marker.value = String(i);
    });
  }
  function show() {
    var chosen = qtype.value;
    form.querySelectorAll("[data-part]").forEach(function (part) {
      part.hidden = part.getAttribute("data-part").split(" ").indexOf(chosen) < 0;
    });
    form.querySelectorAll("input[name=correct]").forEach(function (box) {
      box.type = chosen === "single_choice" ? "radio" : "checkbox";
    });
  }
  form.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    var remove = event.target.closest("[data-remove-row]");
    if (add) {
      var box = add.closest("[data-part]").querySelector("[data-rows]");
      var rows = box.querySelectorAll("[data-row]");
      var copy = rows[rows.length - 1].cloneNode(true);
      copy.querySelectorAll("input").forEach(function (input) {
        if (input.type === "text") input.value = ""; else input.checked = false;
      });
      box.appendChild(copy);
      renumber(box);
      copy.querySelector("input[type=text]").focus();
    } else if (remove) {
      var rowsBox = remove.closest("[data-rows]");
      var row = remove.closest("[data-row]");
      if (rowsBox.querySelectorAll("[data-row]").length > 1) {
        row.remove();
      } else {
        row.querySelectorAll("input").forEach(function (input) {
          if (input.type === "text") input.value = ""; else input.checked = false;
        });
      }
      renumber(rowsBox);
    }
  });
  qtype.addEventListener("change", show);
  show();
})();
