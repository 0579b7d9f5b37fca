"""folium maps with every asset served by the app: no CDN, tiles optional.

folium's defaults load Leaflet, jQuery, Bootstrap and more from CDNs. Each map instance
gets local asset lists instead (instance attributes, so the class defaults stay
untouched), and tiles are added only when a tile URL is configured. Ward outlines are
always drawn, so the map still shows Coventry when no tiles can be reached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import folium
from flask import current_app, url_for
from markupsafe import Markup

COVENTRY_CENTRE = (52.4081, -1.5106)
COVENTRY_BOUNDS = [[52.3636, -1.6148], [52.4649, -1.4239]]
DATA_ATTRIBUTION = (
    "Boundaries: Contains OS data &copy; Crown copyright and database right 2025; "
    "Source: Office for National Statistics, OGL v3.0"
)


# folium writes a full-page document; these parts would restyle the whole page around it.
_PAGE_WIDE_RULES = re.compile(
    r"<style>\s*html,\s*body\s*\{[^}]*\}\s*</style>|<meta name=\"viewport\"[^>]*>|"
    r"<meta http-equiv=\"content-type\"[^>]*>"
)


@dataclass(frozen=True)
class RenderedMap:
    """The three parts of a folium map to place in a page."""

    name: str
    head: Markup
    html: Markup
    script: Markup


def _local_assets(element: Any) -> None:
    element.default_js = [("leaflet", url_for("static", filename="build/leaflet/leaflet.js"))]
    element.default_css = [("leaflet_css", url_for("static", filename="build/leaflet/leaflet.css"))]


def base_map(
    *,
    wards: dict[str, Any] | None,
    location: tuple[float, float] = COVENTRY_CENTRE,
    zoom: int = 12,
    fit_city: bool = True,
) -> folium.Map:
    """A Leaflet map of Coventry with ward outlines and the configured tiles, if any."""
    m = folium.Map(location=location, zoom_start=zoom, tiles=None, control_scale=True, min_zoom=10, max_zoom=19)
    _local_assets(m)
    tile_url = current_app.config["TILE_URL"]
    if tile_url:
        folium.TileLayer(
            tiles=tile_url, attr=current_app.config["TILE_ATTRIBUTION"], name="Street map", max_zoom=19
        ).add_to(m)
    if wards:
        folium.GeoJson(
            wards,
            name="Ward boundaries",
            style_function=lambda _f: {"color": "#0b0c0c", "weight": 1.5, "fillOpacity": 0.02, "dashArray": "4 3"},
            highlight_function=None,
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
            control=False,
        ).add_to(m)
    if fit_city:
        m.fit_bounds(COVENTRY_BOUNDS)
    return m


def render(m: folium.Map) -> RenderedMap:
    """Split a folium map into head, body and script parts for a Jinja page.

    folium writes tooltips and popups into JavaScript strings unescaped, so nothing a
    user typed may ever be passed to folium: maps carry only our own text.
    """
    root: Any = m.get_root()
    root.render()
    head = _PAGE_WIDE_RULES.sub("", root.header.render())
    # Markup is safe here: folium renders only our own configuration (see the docstring).
    return RenderedMap(
        name=m.get_name(),
        head=Markup(head),  # noqa: S704
        html=Markup(root.html.render()),  # noqa: S704
        script=Markup("<script>" + root.script.render() + "</script>"),  # noqa: S704
    )
