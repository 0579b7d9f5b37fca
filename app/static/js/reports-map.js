// The home page map: loads reports in the visible area from the bbox endpoint, as single
// reports or as server-side clusters, and keeps the list link and live status in step.
(function () {
  "use strict";
  var container = document.querySelector("[data-tellus-map][data-geojson-url]");
  if (!container) { return; }
  var map = TellUs.mapFor(container);
  if (!map) { return; }
  var status = document.getElementById("map-status");
  var listLink = document.getElementById("list-link");
  var form = document.querySelector("[data-report-filters]");
  var layer = L.layerGroup().addTo(map);
  var pending = null;
  var timer = null;
  var TARGET = 24;  // smallest marker, in pixels
  var CLUSTER_SPACING = 48;  // the largest cluster marker is 46 pixels across

  function filterParams() {
    var params = new URLSearchParams();
    if (form) {
      new FormData(form).forEach(function (value, key) { if (value) { params.append(key, value); } });
    }
    return params;
  }

  function popupFor(features) {
    var items = features.map(function (f) {
      var p = f.properties;
      var title = p.title || (p.category + " report");
      return "<li><a class=\"govuk-link\" href=\"" + TellUs.escape(p.url) + "\">" + TellUs.escape(title) + "</a><br>" +
        TellUs.escape(p.category) + " · " + TellUs.escape(p.status_label) + (p.created ? " · " + TellUs.escape(p.created.slice(0, 10)) : "") +
        (p.sensitive ? "<br><em>Approximate location</em>" : "") + "</li>";
    });
    return "<ul class=\"govuk-list govuk-body-s\">" + items.join("") + "</ul>";
  }

  function pointMarker(latlng, features) {
    var first = features[0].properties;
    var open = features.some(function (f) { return ["new", "acknowledged", "in_progress"].indexOf(f.properties.status) >= 0; });
    var sensitive = features.every(function (f) { return f.properties.sensitive; });
    var cls = sensitive ? "tellus-dot tellus-dot--approx" : (open ? "tellus-dot tellus-dot--open" : "tellus-dot tellus-dot--closed");
    var label = features.length > 1 ? features.length + " reports here" : (first.title || first.category + " report") + ", " + first.status_label;
    // The dot is 18px; the target around it is 24px (WCAG 2.2 target size).
    var icon = L.divIcon({ className: "tellus-marker", html: "<span class=\"" + cls + "\"></span>", iconSize: [TARGET, TARGET], iconAnchor: [TARGET / 2, TARGET / 2] });
    return L.marker(latlng, { icon: icon, title: label, alt: label, keyboard: true }).bindPopup(popupFor(features));
  }

  function clusterMarker(latlng, count) {
    var size = count < 100 ? 30 : (count < 1000 ? 38 : 46);
    var icon = L.divIcon({
      className: "", iconSize: [size, size], iconAnchor: [size / 2, size / 2],
      html: "<span class=\"tellus-cluster\" style=\"width:" + size + "px;height:" + size + "px\">" + count.toLocaleString("en-GB") + "</span>"
    });
    var label = count.toLocaleString("en-GB") + (count === 1 ? " report" : " reports") + ": select to zoom in";
    var marker = L.marker(latlng, { icon: icon, title: label, alt: label, keyboard: true });
    marker.on("click", function () { map.setView(latlng, Math.min(map.getZoom() + 2, 19)); });
    return marker;
  }

  // Markers that would overlap on screen become one marker, so that every marker can be
  // seen, clicked and reached with the keyboard. `spacing` is the smallest gap, in pixels,
  // between the centres of two markers; each group stays where its first member is, so
  // groups keep that gap too.
  function groupOnScreen(features, spacing) {
    var groups = [];
    features.forEach(function (f) {
      var c = f.geometry.coordinates;
      var latlng = L.latLng(c[1], c[0]);
      var at = map.latLngToLayerPoint(latlng);
      for (var i = 0; i < groups.length; i++) {
        if (Math.abs(groups[i].at.x - at.x) < spacing && Math.abs(groups[i].at.y - at.y) < spacing) {
          groups[i].features.push(f);
          return;
        }
      }
      groups.push({ latlng: latlng, at: at, features: [f] });
    });
    return groups;
  }

  function draw(data) {
    layer.clearLayers();
    if (data.mode === "clusters") {
      var clusters = groupOnScreen(data.features, CLUSTER_SPACING);
      clusters.forEach(function (g) {
        var count = g.features.reduce(function (sum, f) { return sum + f.properties.count; }, 0);
        layer.addLayer(clusterMarker(g.latlng, count));
      });
      status.textContent = data.total.toLocaleString("en-GB") + " reports in this area, shown in " + clusters.length +
        " groups. Zoom in to see single reports, or view them as a list.";
    } else {
      groupOnScreen(data.features, TARGET + 2).forEach(function (g) {
        layer.addLayer(pointMarker(g.latlng, g.features));
      });
      status.textContent = data.total === 0 ? "No reports in this area match the filters." :
        data.total.toLocaleString("en-GB") + " report" + (data.total === 1 ? "" : "s") + " in this area.";
    }
  }

  function load() {
    var params = filterParams();
    var bbox = map.getBounds().toBBoxString();
    if (listLink) {
      var listParams = new URLSearchParams(params);
      listParams.set("bbox", bbox);
      listLink.href = container.getAttribute("data-list-url") + "?" + listParams.toString();
      listLink.textContent = "View the reports in this area as a list";
    }
    params.set("bbox", bbox);
    if (pending) { pending.abort(); }
    pending = new AbortController();
    status.textContent = "Loading reports…";
    fetch(container.getAttribute("data-geojson-url") + "?" + params.toString(), { signal: pending.signal, headers: { Accept: "application/geo+json" } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) { status.textContent = res.body.error || "The reports could not be loaded."; layer.clearLayers(); return; }
        draw(res.body);
      })
      .catch(function (err) { if (err.name !== "AbortError") { status.textContent = "The reports could not be loaded. Try again, or use the list."; } });
  }

  function schedule() { clearTimeout(timer); timer = setTimeout(load, 150); }
  map.on("moveend", schedule);
  if (form) {
    form.addEventListener("change", schedule);
  }
  // The map may still be gliding to fit Coventry; its moveend loads the reports for the
  // final view, so loading now would fetch (and announce) them twice.
  if (!(map._panAnim && map._panAnim._inProgress)) { load(); }
})();
