// The case page's small map (issue 18): the case's point, if one was given, and its grid's
// outline, both written into the page (#case-place) by the view.
(function () {
  "use strict";
  var container = document.getElementById("case-map");
  var data = document.getElementById("case-place");
  if (!container || !data || !window.suquMaps || !window.L) return;
  var place = JSON.parse(data.textContent);
  var map = window.suquMaps.create(container, { scrollWheelZoom: false });
  container.suquMap = map; // for the page's tests
  window.suquMaps.seen(place.grid); // embedded, not fetched: a generated outline is said to be so
  var outline = L.geoJSON(place.grid, { interactive: false, style: { color: "#0d6efd", weight: 2, fillOpacity: 0.1 } }).addTo(map);
  var bounds = place.grid ? outline.getBounds() : null;
  if (place.point) {
    var point = L.latLng(place.point[0], place.point[1]);
    L.marker(point, { keyboard: false }).addTo(map);
    bounds = bounds ? bounds.extend(point) : null;
    if (!bounds) map.setView(point, 15);
  }
  if (bounds && bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12], maxZoom: 17 });
})();
