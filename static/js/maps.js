// What every map shares (docs/maps.md): Leaflet with no base layer unless a tile service is set
// (MAP_TILE_URL), the places' own boundaries drawn as vectors, fetched from /api/v1/regions/.
// Pages keep their own behaviour in their own files and call these.
(function () {
  "use strict";
  var element = document.getElementById("map-config");
  var config = element ? JSON.parse(element.textContent) : {};

  function create(container, options) {
    var map = L.map(container, Object.assign({ zoomSnap: 0.25, attributionControl: Boolean(config.tiles) }, options || {}));
    if (config.tiles) {
      L.tileLayer(config.tiles, { maxZoom: config.maxZoom || 18, attribution: config.attribution || "" }).addTo(map);
    }
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
    return getJSON("/api/v1/regions/geojson/" + query);
  }

  function boundary(code, simplify) {
    return getJSON("/api/v1/regions/" + encodeURIComponent(code) + "/boundary/?simplify=" + (simplify == null ? 1 : simplify) + "&v=" + (config.version || 0));
  }

  // crs: "wgs84" (the default) or "gcj02" for a point copied from a Chinese phone map.
  function locate(latitude, longitude, crs) {
    var query = "?lat=" + encodeURIComponent(latitude) + "&long=" + encodeURIComponent(longitude);
    if (crs) query += "&crs=" + encodeURIComponent(crs);
    return getJSON("/api/v1/regions/locate/" + query);
  }

  window.suquMaps = { config: config, create: create, getJSON: getJSON, places: places, boundary: boundary, locate: locate };
})();
