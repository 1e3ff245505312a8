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
  var points = L.featureGroup().addTo(map);
  var markers = {};

  function text(tag, content, className) {
    var node = document.createElement(tag);
    node.textContent = content;
    if (className) node.className = className;
    return node;
  }

  // Cases shown at the same grid centre are set around it, so each stays tappable.
  var seen = {};
  data.cases.forEach(function (item) {
    if (item.lat === null || item.long === null) return;
    var key = item.lat + "," + item.long;
    (seen[key] = seen[key] || []).push(item);
  });
  Object.keys(seen).forEach(function (key) {
    var group = seen[key];
    group.forEach(function (item, index) {
      var lat = item.lat, long = item.long;
      if (group.length > 1) {
        var angle = (2 * Math.PI * index) / group.length;
        lat += 0.0002 * Math.sin(angle);
        long += 0.00025 * Math.cos(angle);
      }
      var marker = L.circleMarker([lat, long], {
        radius: 8, color: "#fff", weight: 2, fillColor: item.late ? "#dc3545" : "#0d6efd", fillOpacity: 0.95
      });
      var box = document.createElement("div");
      var link = text("a", item.number);
      link.href = item.url;
      box.appendChild(link);
      box.appendChild(text("span", " · " + item.status_label + (item.late ? " · " + labels.overdue : "")));
      box.appendChild(text("div", item.category + " · " + item.grid_name));
      box.appendChild(text("div", item.title, "text-body-secondary"));
      if (item.located === "grid") box.appendChild(text("div", labels.at_grid, "small text-body-secondary"));
      marker.bindPopup(box);
      marker.on("add", function () {
        var node = marker.getElement();
        if (node) node.setAttribute("data-case", item.number);
      });
      markers[item.number] = marker;
      points.addLayer(marker);
    });
  });

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
