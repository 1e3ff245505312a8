// The call-logging page's map (issue 18): the operator's area drawn from its boundaries; a tap,
// a click or a dragged pin sets the place: the latitude and longitude fill in, the point is
// located (/api/v1/regions/locate/) and the street, community and grid lists follow, the grid
// outlined. Typed coordinates and "use my location" move the pin. Everything the map sets, the
// lists and the number boxes can set without it.
(function () {
  "use strict";
  var container = document.getElementById("call-map");
  if (!container || !window.suquMaps || !window.L) return;
  var maps = window.suquMaps;
  var latitude = document.getElementById("id_latitude");
  var longitude = document.getElementById("id_longitude");
  var crs = document.getElementById("id_crs");
  var street = document.getElementById("place-street");
  var community = document.getElementById("place-community");
  var grid = document.getElementById("id_grid");
  var message = document.getElementById("map-message");
  var optionsUrl = container.getAttribute("data-options-url");

  var map = maps.create(container).setView([41.66, 123.34], 10);
  container.suquMap = map; // for the page's tests and other scripts
  var area = L.geoJSON(null, { style: { color: "#6c757d", weight: 1, fillColor: "#adb5bd", fillOpacity: 0.08 } }).addTo(map);
  var outline = L.geoJSON(null, { interactive: false, style: { color: "#0d6efd", weight: 3, fillOpacity: 0.12 } }).addTo(map);
  var marker = null;
  var asked = 0; // the latest locate asked: a slower earlier answer is dropped

  function say(text) {
    message.textContent = text || "";
    message.hidden = !text;
  }

  function pin(latlng) {
    if (!marker) {
      marker = L.marker(latlng, { draggable: true, autoPan: true, keyboard: true }).addTo(map);
      marker.on("dragend", function () { fromMap(marker.getLatLng()); });
    } else {
      marker.setLatLng(latlng);
    }
    if (!map.getBounds().contains(latlng)) map.panTo(latlng);
  }

  // A place set on the map is WGS-84 (the boundaries are); the boxes say so.
  function fromMap(latlng) {
    pin(latlng);
    latitude.value = latlng.lat.toFixed(6);
    longitude.value = latlng.lng.toFixed(6);
    if (crs) crs.value = "wgs84";
    locate(latlng.lat.toFixed(6), latlng.lng.toFixed(6), "wgs84");
  }

  function locate(lat, lng, system) {
    var ticket = ++asked;
    var answer = maps.locate(lat, lng, system === "gcj02" ? "gcj02" : null);
    answer.then(function (place) {
      if (ticket !== asked) return;
      say("");
      // A GCJ-02 point is drawn where it really is: the converted WGS-84 point.
      if (system === "gcj02") pin(L.latLng(place.latitude, place.longitude));
      choose(place.street.code, place.community.code, place.grid.code);
    }).catch(function (error) {
      if (ticket !== asked) return;
      say(error.message);
      outline.clearLayers();
    });
  }

  function options(parent) {
    return fetch(optionsUrl + "?parent=" + encodeURIComponent(parent), { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error(response.statusText);
      return response.text();
    });
  }

  // Fill the three lists as the place-options endpoint does, the located grid selected; the
  // grid's change event then outlines it and asks for duplicates (htmx).
  function choose(streetCode, communityCode, gridCode) {
    Promise.all([options(streetCode), options(communityCode)]).then(function (html) {
      street.value = streetCode;
      community.innerHTML = html[0];
      community.value = communityCode;
      grid.innerHTML = html[1];
      grid.value = gridCode;
      grid.dispatchEvent(new Event("change", { bubbles: true }));
    }).catch(function () {
      say(container.getAttribute("data-failed"));
    });
  }

  function drawGrid(code) {
    if (!code) {
      outline.clearLayers();
      return;
    }
    maps.boundary(code, 1).then(function (feature) {
      if (grid.value !== code) return;
      outline.clearLayers();
      outline.addData(feature);
    }).catch(function () { outline.clearLayers(); });
  }

  // Typed (or filled by "use my location"): both numbers, then the pin follows.
  var typing = null;
  function fromBoxes() {
    window.clearTimeout(typing);
    typing = window.setTimeout(function () {
      var lat = parseFloat(latitude.value);
      var lng = parseFloat(longitude.value);
      if (!isFinite(lat) || !isFinite(lng)) return;
      var system = crs ? crs.value || "wgs84" : "wgs84";
      pin(L.latLng(lat, lng));
      locate(latitude.value.trim(), longitude.value.trim(), system);
    }, 50);
  }

  map.on("click", function (event) { fromMap(event.latlng); });
  [latitude, longitude, crs].forEach(function (box) {
    if (box) box.addEventListener("change", fromBoxes);
  });
  grid.addEventListener("change", function () { drawGrid(grid.value); });
  document.addEventListener("click", function (event) {
    var use = event.target.closest("#use-located-grid");
    if (!use) return;
    choose(use.getAttribute("data-street"), use.getAttribute("data-community"), use.getAttribute("data-grid"));
  });

  maps.places(container.getAttribute("data-parent"), container.getAttribute("data-level"), 2).then(function (places) {
    area.addData(places);
    if (area.getLayers().length) map.fitBounds(area.getBounds(), { padding: [6, 6] });
  }).catch(function () {
    say(container.getAttribute("data-failed"));
  }).then(function () {
    // The page drawn again after an error keeps its point and its grid.
    if (latitude.value && longitude.value) {
      var lat = parseFloat(latitude.value);
      var lng = parseFloat(longitude.value);
      if (isFinite(lat) && isFinite(lng)) pin(L.latLng(lat, lng));
    }
    drawGrid(grid.value);
  });
})();
