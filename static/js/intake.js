// The call-logging page: category filter and suggestions, duplicate choice, location, one submit.
(function () {
  "use strict";
  var form = document.getElementById("call-form");
  if (!form) return;
  var category = document.getElementById("id_category");
  var filter = document.getElementById("category-filter");

  filter.addEventListener("input", function () {
    var text = filter.value.trim();
    Array.prototype.forEach.call(category.querySelectorAll("option"), function (option) {
      option.hidden = text !== "" && option.value !== "" && option.textContent.indexOf(text) === -1;
    });
  });

  // A suggested category selects it in the list; the call then records the suggester version
  // that suggested it (empty for a suggestion by keywords), until another category is chosen.
  var version = form.querySelector("[name=suggester_version]");
  var suggested = null;
  document.addEventListener("click", function (event) {
    var chip = event.target.closest("[data-category]");
    if (!chip) return;
    suggested = chip.getAttribute("data-category");
    if (version) version.value = chip.getAttribute("data-suggester-version") || "";
    category.value = suggested;
    category.dispatchEvent(new Event("change", { bubbles: true }));
  });
  category.addEventListener("change", function () {
    if (version && category.value !== suggested) version.value = "";
  });

  // Choosing a duplicate attaches the call to it instead of opening a new case.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-attach]")) {
      form.querySelector("[name=attach_to]").value = event.target.value;
    }
  });

  var locate = document.getElementById("use-location");
  if (locate && navigator.geolocation) {
    locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (position) {
        var latitude = document.getElementById("id_latitude");
        var longitude = document.getElementById("id_longitude");
        var crs = document.getElementById("id_crs");
        latitude.value = position.coords.latitude.toFixed(6);
        longitude.value = position.coords.longitude.toFixed(6);
        // A phone's position is WGS-84 (GPS); the page's map follows the boxes' change.
        if (crs) crs.value = "wgs84";
        [latitude, longitude].forEach(function (box) { box.dispatchEvent(new Event("change", { bubbles: true })); });
      });
    });
  } else if (locate) {
    locate.hidden = true;
  }

  // One submit per page: the button is disabled after the first click. The server makes a repeat
  // harmless anyway (the form's submission key), this only spares a confusing second wait.
  form.addEventListener("submit", function () {
    var button = document.getElementById("submit-call");
    window.setTimeout(function () { button.disabled = true; }, 0);
  });
})();
