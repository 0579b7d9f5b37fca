// The partner inbox map: a marker for each report the page lists in #inbox-map-data, at its
// exact point. Reports that would overlap on screen share one marker whose popup lists them,
// so every marker can be seen, clicked and reached with Tab. Every text is escaped: titles
// are what residents typed.
(function () {
  "use strict";
  var container = document.querySelector("[data-tellus-map][data-inbox-map]");
  var data = document.getElementById("inbox-map-data");
  if (!container || !data) { return; }
  var map = TellUs.mapFor(container);
  if (!map) { return; }
  var features = JSON.parse(data.textContent).features;
  var status = document.getElementById("map-status");
  var layer = L.layerGroup().addTo(map);
  var TARGET = 24;  // marker size in pixels (WCAG 2.2 target size)

  function describe(p) {
    return p.ref + ": " + p.title + " (" + p.category + ", " + p.status_label + ")";
  }

  function popupFor(group) {
    var items = group.map(function (f) {
      var p = f.properties;
      return "<li><a class=\"govuk-link\" href=\"" + TellUs.escape(p.url) + "\">" + TellUs.escape(p.ref) + ": " +
        TellUs.escape(p.title) + "</a><br>" + TellUs.escape(p.category) + " · " + TellUs.escape(p.status_label) +
        (p.sensitive ? " · sensitive" : "") + "</li>";
    });
    return "<ul class=\"govuk-list govuk-body-s\">" + items.join("") + "</ul>";
  }

  function marker(latlng, group) {
    var open = group.some(function (f) { return f.properties.open; });
    var html = group.length > 1 ?
      "<span class=\"tellus-dot tellus-dot--cluster\">" + group.length + "</span>" :
      "<span class=\"tellus-dot " + (open ? "tellus-dot--open" : "tellus-dot--closed") + "\"></span>";
    var label = group.length > 1 ? group.length + " reports here: select to list them" : describe(group[0].properties);
    var icon = L.divIcon({ className: "tellus-marker", html: html, iconSize: [TARGET, TARGET], iconAnchor: [TARGET / 2, TARGET / 2] });
    // Leaflet sets title and alt as attributes (never as HTML), and keyboard: true makes the
    // marker a Tab stop that opens its popup with Enter.
    return L.marker(latlng, { icon: icon, title: label, alt: label, keyboard: true }).bindPopup(popupFor(group));
  }

  function draw() {
    layer.clearLayers();
    var groups = [];
    features.forEach(function (f) {
      var c = f.geometry.coordinates;
      var latlng = L.latLng(c[1], c[0]);
      var at = map.latLngToLayerPoint(latlng);
      for (var i = 0; i < groups.length; i++) {
        if (Math.abs(groups[i].at.x - at.x) < TARGET + 2 && Math.abs(groups[i].at.y - at.y) < TARGET + 2) {
          groups[i].features.push(f);
          return;
        }
      }
      groups.push({ latlng: latlng, at: at, features: [f] });
    });
    groups.forEach(function (g) { layer.addLayer(marker(g.latlng, g.features)); });
    status.textContent = features.length === 0 ? "No reports in this inbox match the filters." :
      features.length.toLocaleString("en-GB") + (features.length === 1 ? " report" : " reports") + " on the map, as " +
      groups.length.toLocaleString("en-GB") + (groups.length === 1 ? " marker." : " markers.");
  }

  if (features.length) {
    var bounds = L.latLngBounds(features.map(function (f) { return [f.geometry.coordinates[1], f.geometry.coordinates[0]]; }));
    map.fitBounds(bounds.pad(0.1), { maxZoom: 16, animate: false });
  }
  map.on("zoomend", draw);
  draw();
})();
