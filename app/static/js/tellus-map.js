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
    var tileErrors = 0;
    map.eachLayer(function (layer) {
      if (layer instanceof L.TileLayer) {
        layer.on("tileerror", function () {
          tileErrors += 1;
          if (tileErrors === 3) {
            container.classList.add("tellus-tiles-off");
            var note = document.createElement("p");
            note.className = "govuk-body-s tellus-tiles-note";
            note.textContent = "The street map could not be loaded, so only ward boundaries are shown.";
            container.insertAdjacentElement("afterend", note);
          }
        });
      }
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
