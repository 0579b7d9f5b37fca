// Choosing the place: click or tap drops a pin, the pin can be dragged, and there are
// buttons for the middle of the map (keyboard users) and the device's location.
(function () {
  "use strict";
  var container = document.querySelector("[data-tellus-map][data-pin-picker]");
  if (!container) { return; }
  var map = TellUs.mapFor(container);
  if (!map) { return; }
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var status = document.getElementById("pin-status");
  var marker = null;

  function place(latlng, how) {
    var rounded = L.latLng(Number(latlng.lat.toFixed(6)), Number(latlng.lng.toFixed(6)));
    if (!marker) {
      marker = L.marker(rounded, { draggable: true, keyboard: true, title: "Pin: where the problem is. Drag to move it.", alt: "Pin: where the problem is" }).addTo(map);
      marker.on("dragend", function () { place(marker.getLatLng(), "moved"); });
    } else {
      marker.setLatLng(rounded);
    }
    lat.value = rounded.lat.toFixed(6);
    lon.value = rounded.lng.toFixed(6);
    if (status) { status.textContent = "Pin " + how + " at " + lat.value + ", " + lon.value + "."; }
  }

  var initial = container.getAttribute("data-initial-pin") || (lat.value && lon.value ? lat.value + "," + lon.value : "");
  if (initial) {
    var parts = initial.split(",");
    place(L.latLng(parseFloat(parts[0]), parseFloat(parts[1])), "placed");
    if (status) { status.textContent = ""; }
  }
  map.on("click", function (e) { place(e.latlng, "placed"); });

  var centre = document.getElementById("pin-centre");
  if (centre) { centre.addEventListener("click", function () { place(map.getCenter(), "placed in the middle of the map"); }); }

  var locate = document.getElementById("use-location");
  if (locate) {
    if (!("geolocation" in navigator)) { locate.hidden = true; }
    locate.addEventListener("click", function () {
      status.textContent = "Finding your location…";
      navigator.geolocation.getCurrentPosition(function (pos) {
        var here = L.latLng(pos.coords.latitude, pos.coords.longitude);
        map.setView(here, 17);
        place(here, "placed at your location");
      }, function (err) {
        status.textContent = err.code === 1
          ? "We could not use your location because permission was refused. Click the map or enter a postcode instead."
          : "We could not find your location. Click the map or enter a postcode instead.";
      }, { enableHighAccuracy: true, timeout: 10000 });
    });
  }

  var form = document.getElementById("pin-form");
  if (form) {
    form.addEventListener("submit", function (e) {
      if (!lat.value || !lon.value) {
        e.preventDefault();
        status.textContent = "Choose where the problem is: click the map, or use one of the buttons.";
      }
    });
  }
})();
