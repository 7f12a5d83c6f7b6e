/* The plan editor's live total: the amounts are added up in whole fen (integers), never as
   binary fractions, and the total is marked when it passes the alliance fund. */
(function () {
  "use strict";
  var form = document.getElementById("plan-form");
  if (!form) return;
  function toFen(text) {
    text = (text || "").trim().replace(/,/g, "");
    if (!/^\d+(\.\d{0,2})?$/.test(text)) return 0;
    var parts = text.split(".");
    return parseInt(parts[0], 10) * 100 + parseInt(((parts[1] || "") + "00").slice(0, 2), 10);
  }
  function yuan(fen) {
    var whole = Math.floor(fen / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return "¥" + whole + "." + String(fen % 100).padStart(2, "0");
  }
  var fund = toFen(form.dataset.fund);
  var inputs = form.querySelectorAll("input.plan-amount");
  var total = document.getElementById("plan-total");
  var over = document.getElementById("plan-over");
  function update() {
    var sum = 0;
    inputs.forEach(function (input) { sum += toFen(input.value); });
    total.textContent = yuan(sum);
    over.hidden = sum <= fund;
  }
  inputs.forEach(function (input) { input.addEventListener("input", update); });
})();
