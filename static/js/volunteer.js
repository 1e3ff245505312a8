// The volunteer's phone page: care mode (关怀模式) one visible button away, where the menu's own
// button is folded away on a phone. It presses the menu's button, which applies and remembers it.
(function () {
  "use strict";
  var mine = document.getElementById("volunteer-care");
  var shared = document.getElementById("care-mode-toggle");
  if (!mine || !shared) return;

  function show() {
    mine.setAttribute("aria-pressed", document.documentElement.classList.contains("care-mode") ? "true" : "false");
  }

  mine.addEventListener("click", function () {
    shared.click();
    show();
  });
  show();
})();
