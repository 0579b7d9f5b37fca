"""The map on a report's page: a pin, or a shaded area for a coarsened sensitive report."""

from __future__ import annotations

from typing import Any

import folium

from app.maps import base_map
from app.reports.queries import PublicReport
from geo.coarsen import CELL_LAT


def report_map(report: PublicReport, wards: dict[str, Any]) -> folium.Map:
    m = base_map(wards=wards, location=(report.lat, report.lon), zoom=15 if report.sensitive else 17, fit_city=False)
    if report.sensitive:
        folium.Circle(
            location=(report.lat, report.lon),
            radius=CELL_LAT * 111_320 / 2,
            color="#1d70b8",
            fill=True,
            fill_opacity=0.15,
            tooltip="Approximate area (within about 500 m)",
        ).add_to(m)
    else:
        folium.CircleMarker(
            location=(report.lat, report.lon),
            radius=9,
            color="#0b0c0c",
            weight=2,
            fill=True,
            fill_color="#d4351c",
            fill_opacity=1,
            # Never user text here: folium does not escape it (see app.maps.render).
            tooltip="Reported location",
        ).add_to(m)
    return m
