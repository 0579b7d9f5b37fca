"""CSV and GeoJSON exports of the dashboard (routes on ``app.hotspots.views.bp``)."""
