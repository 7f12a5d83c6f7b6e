/* The activity form shows the fields only some kinds have (a donation's amount and goods,
   resource sharing's count) for those kinds; the server drops them for any other kind. */
(function () {
  "use strict";
  var form = document.getElementById("activity");
  if (!form) return;
  var kind = form.querySelector("select[name=kind]");
  var group = document.getElementById("kind-fields");
  var inputs = form.querySelectorAll("[data-kinds]");
  function update() {
    var any = false;
    inputs.forEach(function (input) {
      var shown = input.dataset.kinds.split(" ").indexOf(kind.value) !== -1;
      var field = input.closest(".field");
      if (field) field.hidden = !shown;
      any = any || shown;
    });
    if (group) group.hidden = !any;
  }
  kind.addEventListener("change", update);
  update();
})();
