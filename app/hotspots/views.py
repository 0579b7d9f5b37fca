"""The ward dashboard's pages. Alerts (``alert_views``) and exports (``export_views``) add
their routes to the same blueprint."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("hotspots", __name__, template_folder="templates")

# Registered on ``bp`` when imported; at the bottom so that they can import ``bp``.
from app.hotspots import alert_views, export_views  # noqa: E402, F401
