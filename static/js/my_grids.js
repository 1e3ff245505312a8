// A grid worker's "my grids" (issue 18): their grids outlined, their open cases as points (red
// when overdue), each point's popup linking to the case; "On the map" in the list opens it.
// The cases come with the page (json_script "my-grids-data"); the outlines from the regions' API.
(function () {
  "use strict";
  var source = document.getElementById("my-grids-data");
  var element = document.getElementById("my-grids-map");
  if (!source || !element || !window.suquMaps || typeof L === "undefined") return;
  var data = JSON.parse(source.textContent);
  var labels = data.labels;
  // One finger scrolls the page on a phone; two fingers move and zoom the map.
  var touch = window.matchMedia("(hover: none), (pointer: coarse)").matches;
  var map = window.suquMaps.create(element, { dragging: !touch, scrollWheelZoom: false });
  var outlines = L.featureGroup().addTo(map);
  // Blue, red when overdue, each popup linking to the case (static/js/maps.js).
  var points = window.suquMaps.casePoints(data.cases, {
    status: function (item) { return item.status_label; },
    labels: labels
  }).addTo(map);
  var markers = points.markers;

  function fit() {
    var bounds = outlines.getBounds();
    if (points.getLayers().length) bounds = bounds.isValid() ? bounds.extend(points.getBounds()) : points.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [12, 12], maxZoom: 17 });
  }

  Promise.all(data.grids.map(function (code) { return window.suquMaps.boundary(code, 1); }))
    .then(function (features) {
      features.forEach(function (feature) {
        var layer = L.geoJSON(feature, { style: { color: "#0d6efd", weight: 2, fillColor: "#0d6efd", fillOpacity: 0.06 } });
        layer.bindTooltip(feature.properties.name);
        layer.eachLayer(function (shape) {
          shape.on("add", function () {
            var path = shape.getElement();
            if (path) path.setAttribute("data-code", feature.properties.code);
          });
        });
        outlines.addLayer(layer);
      });
      fit();
      outlines.bringToBack();  // beneath the points, now that the map has a view and draws both
      element.setAttribute("data-ready", "true");
    })
    .catch(function (error) {
      fit();
      var status = document.getElementById("map-status");
      if (status) {
        status.textContent = labels.failed + (error && error.message ? " (" + error.message + ")" : "");
        status.hidden = false;
      }
    });

  document.querySelectorAll("[data-show-case]").forEach(function (button) {
    button.addEventListener("click", function () {
      var marker = markers[button.dataset.showCase];
      if (!marker) return;
      element.scrollIntoView({ behavior: "smooth", block: "nearest" });
      map.setView(marker.getLatLng(), Math.max(map.getZoom(), 16));
      marker.openPopup();
    });
  });

  var pending = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(function () { map.invalidateSize(); }, 100);
  });
})();
