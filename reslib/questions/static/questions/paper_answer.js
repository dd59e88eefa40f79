// The answering page: the countdown (submits when the time is up), ordering with up/down buttons, and a
// confirmation before submitting that names the questions still unanswered. Without JavaScript the form still works.
(function () {
  "use strict";
  var form = document.getElementById("answer-form");
  if (!form) return;

  // --- ordering: arrows move an item and renumber the list 1..n --------------------------------------------------
  function renumber(list) {
    var inputs = list.querySelectorAll("[data-order-item] input");
    for (var i = 0; i < inputs.length; i++) inputs[i].value = i + 1;
  }
  var lists = form.querySelectorAll("[data-order]");
  for (var l = 0; l < lists.length; l++) {
    var buttons = lists[l].querySelectorAll("[data-move]");
    for (var b = 0; b < buttons.length; b++) buttons[b].hidden = false;
  }
  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-move]");
    if (!button) return;
    var item = button.closest("[data-order-item]");
    var list = item.parentNode;
    if (button.getAttribute("data-move") === "up" && item.previousElementSibling) {
      list.insertBefore(item, item.previousElementSibling);
    } else if (button.getAttribute("data-move") === "down" && item.nextElementSibling) {
      list.insertBefore(item.nextElementSibling, item);
    }
    renumber(list);
    button.focus();
  });

  // --- which questions are still unanswered ------------------------------------------------------------------------
  function answered(fieldset) {
    if (fieldset.querySelector("input:checked")) return true;
    var fields = fieldset.querySelectorAll("input[type=text], input[type=number], textarea, select");
    for (var i = 0; i < fields.length; i++) if (fields[i].value.trim() !== "") return true;
    return false;
  }
  function unanswered() {
    var missing = [];
    var sets = form.querySelectorAll("fieldset.q");
    for (var i = 0; i < sets.length; i++) if (!answered(sets[i])) missing.push(sets[i].getAttribute("data-position"));
    return missing;
  }

  var timeUp = false;
  form.addEventListener("submit", function (event) {
    if (timeUp || !event.submitter || !event.submitter.hasAttribute("data-submit")) return;
    var missing = unanswered();
    var question = missing.length
      ? form.getAttribute("data-confirm-unanswered").replace("%(n)s", missing.join("、"))
      : form.getAttribute("data-confirm-submit");
    if (!window.confirm(question)) event.preventDefault();
  });

  // --- the countdown -------------------------------------------------------------------------------------------------
  var timer = form.querySelector("[data-timer]");
  var remaining = parseInt(form.getAttribute("data-remaining"), 10);
  if (!timer || isNaN(remaining)) return;
  var shown = timer.querySelector("[data-timer-value]");
  var end = Date.now() + remaining * 1000;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var left = Math.max(0, Math.round((end - Date.now()) / 1000));
    var hours = Math.floor(left / 3600);
    var text = pad(Math.floor((left % 3600) / 60)) + ":" + pad(left % 60);
    shown.textContent = hours ? hours + ":" + text : text;
    timer.classList.toggle("urgent", left <= 60);
    if (left === 0 && !timeUp) {
      timeUp = true;
      window.alert(form.getAttribute("data-time-up"));
      var action = document.createElement("input");
      action.type = "hidden";
      action.name = "action";
      action.value = "submit";
      form.appendChild(action);
      form.submit();
      return;
    }
    window.setTimeout(tick, 1000);
  }
  tick();
})();
