// The ward dashboard's map: switch between report counts, hot and cold spots and the heat
// layer in place when a "The map shows" radio changes (by mouse or with the arrow keys).
// Without JavaScript the radios belong to the filter form, and "Show on the map" reloads the
// page with layer=...; this only saves the reload, and keeps the address in step so that a
// reload, a bookmark or the filters keep the layer chosen.
(function () {
  "use strict";
  var container = document.querySelector("[data-tellus-map][data-dashboard-map]");
  if (!container) { return; }
  var map = TellUs.mapFor(container);
  if (!map) { return; }
  var names = JSON.parse(container.getAttribute("data-layers"));
  var labels = {};
  var radios = document.querySelectorAll("input[name='layer'][type='radio']");
  var status = document.getElementById("map-status");
  var region = container.querySelector("[role='region']");
  var button = document.querySelector("[data-layer-button]");

  radios.forEach(function (radio) {
    var label = document.querySelector("label[for='" + radio.id + "']");
    labels[radio.value] = label ? label.textContent.trim() : radio.value;
  });

  function show(key, announce) {
    Object.keys(names).forEach(function (name) {
      var layer = window[names[name]];
      if (!layer) { return; }
      if (name === key && !map.hasLayer(layer)) { map.addLayer(layer); }
      if (name !== key && map.hasLayer(layer)) { map.removeLayer(layer); }
    });
    document.querySelectorAll("[data-legend]").forEach(function (legend) {
      legend.hidden = legend.getAttribute("data-legend") !== key;
    });
    if (region) {
      region.setAttribute("aria-label", region.getAttribute("aria-label").replace(/^Map showing [^.]*\./, "Map showing " + labels[key].toLowerCase() + "."));
    }
    var url = new URL(window.location.href);
    url.searchParams.set("layer", key);
    window.history.replaceState(null, "", url.toString());
    if (announce && status) { status.textContent = "The map now shows " + labels[key].toLowerCase() + "."; }
  }

  radios.forEach(function (radio) {
    radio.addEventListener("change", function () { if (radio.checked) { show(radio.value, true); } });
  });
  // The button only reloads the page for what the radios now do in place.
  if (button) { button.hidden = true; }
  var checked = document.querySelector("input[name='layer'][type='radio']:checked");
  if (checked) { show(checked.value, false); }
})();
