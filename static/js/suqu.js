// Behaviour shared by every page. No inline scripts: the Content-Security-Policy forbids them.
(function () {
  "use strict";
  var KEY = "suqu-care-mode";
  var root = document.documentElement;
  var toggle = document.getElementById("care-mode-toggle");

  function show() {
    if (toggle) toggle.setAttribute("aria-pressed", root.classList.contains("care-mode") ? "true" : "false");
  }

  if (toggle) {
    toggle.addEventListener("click", function () {
      var on = root.classList.toggle("care-mode");
      try { window.localStorage.setItem(KEY, on ? "on" : "off"); } catch (e) { /* not remembered */ }
      show();
    });
  }
  show();
})();
