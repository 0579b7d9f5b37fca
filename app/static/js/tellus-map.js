// Shared helpers for TellUs maps: find the folium map, and fall back to ward outlines
// when the tile server cannot be reached.
(function () {
  "use strict";
  window.TellUs = window.TellUs || {};

  TellUs.mapFor = function (container) {
    if (container.tellusMap) { return container.tellusMap; }
    var map = window[container.getAttribute("data-tellus-map")];
    if (!map) { return null; }
    container.tellusMap = map;
    var failedTiles = [];
    function tileFailed(tile) {
      if (failedTiles.indexOf(tile) >= 0) { return; }
      failedTiles.push(tile);
      if (failedTiles.length === 3) {
        container.classList.add("tellus-tiles-off");
        var note = document.createElement("p");
        note.className = "govuk-body-s tellus-tiles-note";
        note.textContent = "The street map could not be loaded, so only ward boundaries are shown.";
        container.insertAdjacentElement("afterend", note);
      }
    }
    map.eachLayer(function (layer) {
      if (layer instanceof L.TileLayer) {
        layer.on("tileerror", function (e) { tileFailed(e.tile); });
      }
    });
    // Tiles refused before this script ran (no network, a blocked host) count as well.
    container.querySelectorAll("img.leaflet-tile").forEach(function (img) {
      if (img.complete && img.naturalWidth === 0) { tileFailed(img); }
    });
    // Leaflet opens a shape's tooltip on focus, and in Chrome those focus listeners make
    // every shape (18 ward outlines) a nameless Tab stop before the rest of the page. The
    // same facts are in the page text, so the tooltips stay for the mouse only.
    map.eachLayer(function (layer) {
      var el = layer instanceof L.Path && layer.getElement();
      if (el) { L.DomEvent.off(el, "focus blur"); }
    });
    // Leaflet's own links and buttons need names that screen readers can announce.
    container.querySelectorAll(".leaflet-control-zoom-in").forEach(function (el) { el.setAttribute("aria-label", "Zoom in"); });
    container.querySelectorAll(".leaflet-control-zoom-out").forEach(function (el) { el.setAttribute("aria-label", "Zoom out"); });
    return map;
  };

  document.querySelectorAll("[data-tellus-map]").forEach(function (el) { TellUs.mapFor(el); });

  TellUs.escape = function (text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  };
})();
