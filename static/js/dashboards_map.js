// The overview's map (issue 18): the place's children coloured by the figure chosen, their numbers
// on them, a legend; clicking (tapping) a child opens its dashboard with the same days and figure;
// hotspots and supervised cases as points. The figures come with the page (json_script
// "dashboard-map-data", the children table's own numbers); the boundaries from the regions' API
// (static/js/maps.js). No inline scripts: the Content-Security-Policy forbids them.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-map-data");
  var element = document.getElementById("dashboard-map");
  if (!source || !element || !window.suquMaps || typeof L === "undefined") return;
  var data = JSON.parse(source.textContent);
  var labels = data.labels;
  var figure = data.figure;
  var status = document.getElementById("map-status");
  var legend = document.getElementById("map-legend");
  var select = document.getElementById("map-figure");
  var hidden = document.getElementById("period-figure");

  // On a touch screen one finger scrolls the page past the map, two fingers move and zoom it
  // (Leaflet's pinch zoom follows the fingers); a tap on a place opens it.
  var touch = window.matchMedia("(hover: none), (pointer: coarse)").matches;
  var map = window.suquMaps.create(element, { dragging: !touch, scrollWheelZoom: false, zoomControl: true });

  var NONE = "#ced4da";
  var PALETTES = {
    calls: ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"],
    open: ["#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"],
    overdue: ["#fff5eb", "#fdbe85", "#fd8d3c", "#e6550d", "#a63603"],
    rate: ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"]
  };
  // Rates in fixed bands, so that a colour means the same on every page; low is red.
  var RATE_BANDS = [0, 0.7, 0.8, 0.9, 0.95];

  function kindOf(key) {
    var found = data.figures.filter(function (item) { return item.key === key; })[0];
    return found ? found.kind : "count";
  }

  function shown(value, kind) {
    if (value === null || value === undefined) return "—";
    return kind === "rate" ? (value * 100).toFixed(1) + "%" : String(value);
  }

  // The classes of the figure over the places drawn: [{colour, label, test(value)}].
  function classesFor(key) {
    var kind = kindOf(key);
    if (kind === "rate") {
      var palette = PALETTES.rate;
      return RATE_BANDS.map(function (low, index) {
        var high = RATE_BANDS[index + 1];
        return {
          colour: palette[index],
          label: high === undefined ? "≥ " + shown(low, "rate") : index === 0 ? "< " + shown(high, "rate") : shown(low, "rate") + " – " + shown(high, "rate"),
          test: function (value) { return value >= low && (high === undefined || value < high); }
        };
      });
    }
    var colours = PALETTES[key] || PALETTES.calls;
    var max = 0;
    Object.keys(data.places).forEach(function (code) { max = Math.max(max, data.places[code][key] || 0); });
    var classes = [{ colour: colours[0], label: "0", test: function (value) { return value === 0; } }];
    var step = Math.max(1, Math.ceil(max / 4));
    for (var index = 1; index <= 4 && (index - 1) * step + 1 <= max; index += 1) {
      (function (low, high, colour) {
        classes.push({
          colour: colour,
          label: low === high ? String(low) : low + " – " + high,
          test: function (value) { return value >= low && value <= high; }
        });
      })((index - 1) * step + 1, index * step, colours[index]);
    }
    return classes;
  }

  var classes = [];
  function colourOf(value) {
    if (value === null || value === undefined) return NONE;
    var found = classes.filter(function (item) { return item.test(value); })[0];
    return found ? found.colour : NONE;
  }

  function drawLegend() {
    if (!legend) return;
    legend.textContent = "";
    if (!data.child_level) return;
    var entries = classes.slice();
    var missing = Object.keys(data.places).some(function (code) { return data.places[code][figure] === null; });
    if (missing) entries.push({ colour: NONE, label: labels.no_value });
    entries.forEach(function (entry) {
      var item = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "map-swatch";
      swatch.style.backgroundColor = entry.colour;
      swatch.setAttribute("aria-hidden", "true");
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(" " + entry.label));
      item.dataset.colour = entry.colour;
      legend.appendChild(item);
    });
  }

  function withFigure(url) {
    if (figure === data.figures[0].key) return url;
    return url + (url.indexOf("?") === -1 ? "?" : "&") + "figure=" + encodeURIComponent(figure);
  }

  function text(tag, content, className) {
    var node = document.createElement(tag);
    node.textContent = content;
    if (className) node.className = className;
    return node;
  }

  // --- the places ------------------------------------------------------------------------------

  var places = null;
  var values = L.layerGroup().addTo(map);

  function style(feature) {
    var place = data.places[feature.properties.code];
    if (!data.child_level || !place) {
      return { color: "#0d6efd", weight: 2, fillColor: "#0d6efd", fillOpacity: 0.08 };
    }
    return { color: "#495057", weight: 1, fillColor: colourOf(place[figure]), fillOpacity: 0.8 };
  }

  function label(feature) {
    var place = data.places[feature.properties.code];
    var box = document.createElement("div");
    box.appendChild(text("strong", feature.properties.name));
    if (place) {
      var figureLabel = data.figures.filter(function (item) { return item.key === figure; })[0].label;
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(figureLabel + ": " + shown(place[figure], kindOf(figure))));
    }
    return box;
  }

  function bind(feature, layer) {
    var code = feature.properties.code;
    var place = data.places[code];
    layer.bindTooltip(function () { return label(feature); }, { sticky: true });
    layer.on("add", function () {
      var path = layer.getElement();
      if (!path) return;
      path.setAttribute("data-code", code);
      if (place) path.setAttribute("data-value", place[figure] === null ? "" : String(place[figure]));
    });
    if (place) {
      layer.on("click", function () { window.location.href = withFigure(place.url); });
      layer.on("mouseover", function () { layer.setStyle({ weight: 3, color: "#212529" }); });
      layer.on("mouseout", function () { layer.setStyle({ weight: 1, color: "#495057" }); });
    }
  }

  // Each child's number at its representative point; not interactive, so a tap goes through
  // to the place beneath.
  function drawValues(collection) {
    values.clearLayers();
    if (!data.child_level) return;
    var kind = kindOf(figure);
    collection.features.forEach(function (feature) {
      var place = data.places[feature.properties.code];
      var point = feature.properties.point;
      if (!place || !point) return;
      var tag = document.createElement("span");
      tag.textContent = shown(place[figure], kind);
      tag.setAttribute("data-code", feature.properties.code);
      var icon = L.divIcon({ className: "map-value", html: tag, iconSize: null });
      values.addLayer(L.marker([point[1], point[0]], { icon: icon, interactive: false, keyboard: false }));
    });
  }

  var collection = null;
  function paint() {
    classes = classesFor(figure);
    if (places) {
      places.setStyle(style);
      places.eachLayer(function (layer) {
        var path = layer.getElement();
        var place = data.places[layer.feature.properties.code];
        if (path && place) path.setAttribute("data-value", place[figure] === null ? "" : String(place[figure]));
      });
    }
    if (collection) drawValues(collection);
    drawLegend();
    element.setAttribute("data-figure", figure);
  }

  function failed(error) {
    if (!status) return;
    status.textContent = labels.failed + (error && error.message ? " (" + error.message + ")" : "");
    status.hidden = false;
  }

  function drawPlaces(found) {
    collection = found;
    classes = classesFor(figure);
    places = L.geoJSON(found, { style: style, onEachFeature: bind }).addTo(map);
    var bounds = places.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [6, 6] });
    // The map is drawn once it has a view (the fit above): the places go beneath the points
    // that were waiting for it.
    places.bringToBack();
    paint();
    element.setAttribute("data-ready", "true");
  }

  var request = data.child_level
    ? window.suquMaps.places(data.code, null, data.simplify)
    : window.suquMaps.boundary(data.code, data.simplify).then(function (feature) {
        return { type: "FeatureCollection", features: [feature] };
      });
  request.then(drawPlaces).catch(failed);

  // --- the points ------------------------------------------------------------------------------

  function tagged(layer, name, value) {
    layer.on("add", function () {
      var node = layer.getElement();
      if (node) node.setAttribute(name, value);
    });
    return layer;
  }

  var hotspots = L.layerGroup();
  data.hotspots.forEach(function (spot) {
    if (spot.lat === null || spot.long === null) return;
    var radius = Math.min(16, 6 + Math.sqrt(spot.count) * 1.5);
    var marker = L.circleMarker([spot.lat, spot.long], {
      radius: radius, color: "#fff", weight: 1.5, fillColor: "#fd7e14", fillOpacity: 0.9
    });
    var box = document.createElement("div");
    box.appendChild(text("strong", labels.hotspot + " · " + spot.name));
    box.appendChild(text("div", spot.category + ": " + spot.count + " " + labels.received));
    var link = text("a", labels.open_cases);
    link.href = spot.url;
    box.appendChild(link);
    marker.bindPopup(box);
    hotspots.addLayer(tagged(marker, "data-hotspot", spot.code));
  });

  // The cases supervised now, with the my-grids page's markers and popups (static/js/maps.js).
  var supervised = window.suquMaps.casePoints(data.supervised, {
    colour: "#6f42c1",
    radius: 7,
    status: function () { return labels.supervised; },
    labels: labels
  });

  [["map-show-hotspots", hotspots], ["map-show-supervised", supervised]].forEach(function (pair) {
    var box = document.getElementById(pair[0]);
    if (!box || box.checked) pair[1].addTo(map);
    if (box) {
      box.addEventListener("change", function () {
        if (box.checked) pair[1].addTo(map);
        else map.removeLayer(pair[1]);
      });
    }
  });

  // --- the figure chosen -------------------------------------------------------------------------

  if (select) {
    select.addEventListener("change", function () {
      figure = select.value;
      if (hidden) hidden.value = figure;
      if (window.history && window.history.replaceState) {
        var url = new URL(window.location.href);
        if (figure === data.figures[0].key) url.searchParams.delete("figure");
        else url.searchParams.set("figure", figure);
        window.history.replaceState(null, "", url.toString());
      }
      paint();
    });
  }

  var pending = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(function () { map.invalidateSize(); }, 100);
  });
})();
