// The resident's request form: one submit per page. The server makes a repeat harmless anyway
// (the form's submission token: one case, not two); this only spares a confusing second wait.
(function () {
  "use strict";
  var form = document.getElementById("request-form");
  if (!form) return;
  form.addEventListener("submit", function () {
    window.setTimeout(function () {
      Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (button) {
        button.disabled = true;
      });
    }, 0);
  });
})();
