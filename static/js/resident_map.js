// The resident's map: the district's streets drawn from their boundaries; a tap sets the place
// (the hidden latitude and longitude), names the street and community found there and selects
// that community in the list. Without the map, the list and the address do the same job.
(function () {
  "use strict";
  var container = document.getElementById("resident-map");
  if (!container || !window.suquMaps || !window.L) return;
  var maps = window.suquMaps;
  var latitude = document.getElementById("id_latitude");
  var longitude = document.getElementById("id_longitude");
  var community = document.getElementById("id_community");
  var place = document.getElementById("map-place");
  var clear = document.getElementById("map-clear");

  var map = maps.create(container).setView([41.66, 123.34], 10);
  container.suquMap = map; // for the page's tests
  var streets = L.geoJSON(null, { style: { color: "#6c757d", weight: 1, fillColor: "#adb5bd", fillOpacity: 0.08 } }).addTo(map);
  var marker = null;
  var asked = 0; // the latest tap asked about: a slower earlier answer is dropped

  function say(text, bad) {
    place.textContent = text || "";
    place.className = "small mt-1" + (bad ? " text-danger" : "");
  }

  function forget() {
    latitude.value = "";
    longitude.value = "";
    if (marker) { map.removeLayer(marker); marker = null; }
    clear.hidden = true;
  }

  function pin(latlng) {
    if (!marker) marker = L.marker(latlng, { keyboard: true }).addTo(map);
    else marker.setLatLng(latlng);
    clear.hidden = false;
  }

  function tapped(latlng) {
    var lat = latlng.lat.toFixed(6);
    var lng = latlng.lng.toFixed(6);
    pin(latlng);
    latitude.value = lat;
    longitude.value = lng;
    var ticket = ++asked;
    maps.getJSON(container.getAttribute("data-locate-url") + "?lat=" + encodeURIComponent(lat) + "&long=" + encodeURIComponent(lng)).then(function (found) {
      if (ticket !== asked) return;
      say(found.street.name + " · " + found.community.name, false);
      if (community) community.value = found.community.code;
    }).catch(function (error) {
      if (ticket !== asked) return;
      forget();
      say(error.message, true);
    });
  }

  map.on("click", function (event) { tapped(event.latlng); });
  clear.addEventListener("click", function () { forget(); say(""); });

  maps.getJSON(container.getAttribute("data-streets-url")).then(function (shapes) {
    maps.seen(shapes);
    streets.addData(shapes);
    if (streets.getLayers().length) map.fitBounds(streets.getBounds(), { padding: [4, 4] });
  }).catch(function () {
    say(container.getAttribute("data-failed"), true);
  }).then(function () {
    // The page drawn again after an error keeps its point.
    var lat = parseFloat(latitude.value);
    var lng = parseFloat(longitude.value);
    if (isFinite(lat) && isFinite(lng)) pin(L.latLng(lat, lng));
  });
})();
