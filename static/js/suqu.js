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

// A <select data-submit-on-change> submits its form when changed (the queue's unit switch).
document.addEventListener("change", function (event) {
  if (event.target.matches("[data-submit-on-change]")) event.target.form.submit();
});

// The queue refreshes itself every 30 seconds; not while someone is ticking cases in it.
document.addEventListener("htmx:beforeRequest", function (event) {
  var list = document.getElementById("queue-list");
  if (list && event.detail.elt === list && list.querySelector("input[type=checkbox]:checked")) {
    event.preventDefault();
  }
});
