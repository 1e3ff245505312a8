// What every map shares (docs/maps.md): Leaflet with no base layer unless a tile service is set
// (MAP_TILE_URL), the places' own boundaries drawn as vectors, fetched from /api/v1/regions/.
// Pages keep their own behaviour in their own files and call these.
(function () {
  "use strict";
  var element = document.getElementById("map-config");
  var config = element ? JSON.parse(element.textContent) : {};

  // --- generated boundaries are said to be so, on every map ---------------------------------
  // The maps of a page draw from one boundary set: once any shape fetched (places, boundary) or
  // embedded in the page (seen) is generated, every map the page made with create() says so, in a
  // note just below it (config.generatedNote, translated by {% map_config %}).
  var generated = false;
  var containers = [];

  function note(container) {
    if (!config.generatedNote || container.suquGeneratedNote) return;
    var line = document.createElement("p");
    line.className = "map-generated small text-body-secondary mt-1 mb-1";
    line.textContent = config.generatedNote;
    container.insertAdjacentElement("afterend", line);
    container.suquGeneratedNote = line;
  }

  function isGenerated(shapes) {
    if (!shapes) return false;
    if (Array.isArray(shapes)) return shapes.some(isGenerated);
    if (shapes.type === "FeatureCollection") return (shapes.features || []).some(isGenerated);
    return Boolean(shapes.properties && shapes.properties.generated === true);
  }

  // Shapes a page draws that did not come through places() or boundary() (a Feature, a
  // FeatureCollection or a list of them; null is nothing). Returns them, to sit in a promise chain.
  function seen(shapes) {
    if (!generated && isGenerated(shapes)) {
      generated = true;
      containers.forEach(note);
    }
    return shapes;
  }

  function create(container, options) {
    var map = L.map(container, Object.assign({ zoomSnap: 0.25, attributionControl: Boolean(config.tiles) }, options || {}));
    if (config.tiles) {
      L.tileLayer(config.tiles, {
        maxZoom: config.maxZoom || 18,
        subdomains: config.subdomains || "abc",
        attribution: config.attribution || "",
      }).addTo(map);
    }
    var node = map.getContainer();
    containers.push(node);
    if (generated) note(node);
    return map;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) {
          var error = new Error(body.detail || response.statusText);
          error.status = response.status;
          error.body = body;
          throw error;
        }
        return body;
      });
    });
  }

  // The children of a place (or its places at `level`), as a FeatureCollection.
  function places(parent, level, simplify) {
    var query = "?parent=" + encodeURIComponent(parent) + "&simplify=" + (simplify == null ? 2 : simplify) + "&v=" + (config.version || 0);
    if (level) query += "&level=" + encodeURIComponent(level);
    return getJSON("/api/v1/regions/geojson/" + query).then(seen);
  }

  function boundary(code, simplify) {
    return getJSON("/api/v1/regions/" + encodeURIComponent(code) + "/boundary/?simplify=" + (simplify == null ? 1 : simplify) + "&v=" + (config.version || 0)).then(seen);
  }

  // crs: "wgs84" (the default) or "gcj02" for a point copied from a Chinese phone map.
  function locate(latitude, longitude, crs) {
    var query = "?lat=" + encodeURIComponent(latitude) + "&long=" + encodeURIComponent(longitude);
    if (crs) query += "&crs=" + encodeURIComponent(crs);
    return getJSON("/api/v1/regions/locate/" + query);
  }

  // --- cases as points --------------------------------------------------------------------------

  function text(tag, content, className) {
    var node = document.createElement(tag);
    node.textContent = content;
    if (className) node.className = className;
    return node;
  }

  // Cases as round markers (dashboards.selectors._case_points' points: number, url, lat, long,
  // late, located, category, grid_name, title), in a featureGroup the caller adds to a map; its
  // `markers` are by case number. Cases at the same spot (the same grid's centre) are set around
  // it, about 20 m apart, so each stays tappable. Each popup links to the case. Options:
  //   colour: the fill of a case not overdue (overdue ones are red); radius, weight;
  //   status(point): the words after the number (" · " and "overdue" follow when late);
  //   labels: {overdue, at_grid}.
  function casePoints(points, options) {
    options = options || {};
    var labels = options.labels || {};
    var group = L.featureGroup();
    group.markers = {};
    var spots = {};
    points.forEach(function (point) {
      if (point.lat === null || point.lat === undefined || point.long === null || point.long === undefined) return;
      var key = point.lat + "," + point.long;
      (spots[key] = spots[key] || []).push(point);
    });
    Object.keys(spots).forEach(function (key) {
      var together = spots[key];
      together.forEach(function (point, index) {
        var lat = point.lat, long = point.long;
        if (together.length > 1) {
          var angle = (2 * Math.PI * index) / together.length;
          lat += 0.0002 * Math.sin(angle);
          long += 0.00025 * Math.cos(angle);
        }
        var marker = L.circleMarker([lat, long], {
          radius: options.radius || 8,
          color: "#fff",
          weight: options.weight || 2,
          fillColor: point.late ? "#dc3545" : options.colour || "#0d6efd",
          fillOpacity: 0.95
        });
        var box = document.createElement("div");
        var link = text("a", point.number);
        link.href = point.url;
        box.appendChild(link);
        var status = options.status ? options.status(point) : "";
        var words = [status, point.late ? labels.overdue : ""].filter(Boolean);
        if (words.length) box.appendChild(text("span", " · " + words.join(" · ")));
        box.appendChild(text("div", point.category + " · " + point.grid_name));
        box.appendChild(text("div", point.title, "text-body-secondary"));
        if (point.located === "grid" && labels.at_grid) box.appendChild(text("div", labels.at_grid, "small text-body-secondary"));
        marker.bindPopup(box);
        marker.on("add", function () {
          var node = marker.getElement();
          if (node) node.setAttribute("data-case", point.number);
        });
        group.markers[point.number] = marker;
        group.addLayer(marker);
      });
    });
    return group;
  }

  window.suquMaps = {
    config: config,
    create: create,
    getJSON: getJSON,
    places: places,
    boundary: boundary,
    locate: locate,
    seen: seen,
    casePoints: casePoints
  };
})();
