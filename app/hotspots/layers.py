"""The dashboard's map: report counts per hexagon, Gi* hot and cold spots, and a heat layer,
each a folium feature group so the page can switch between them in place (static/js/
dashboard-map.js) or, without JavaScript, by reloading with ``layer=``.

Every asset is served by the app (``app.maps``; the heat layer is npm's ``leaflet.heat``,
copied to static/build by ``make assets``). Only our own text goes into folium (counts and
labels), never anything a resident typed: folium writes tooltips into JavaScript unescaped.
Colour is never the only cue: hot spots have a solid heavy outline, cold spots a dashed one,
and the legend and the table under the map say the same in words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import folium
from flask import url_for
from folium.plugins import HeatMap

from app.hotspots.analysis import MapCell
from app.maps import COVENTRY_BOUNDS, RenderedMap, base_map, render
from geo import hexes

LAYERS = {
    "counts": "Report counts",
    "hotspots": "Hot and cold spots",
    "heat": "Heat map",
}
DEFAULT_LAYER = "counts"

# Hot spots in reds, cold spots in blues, strongest evidence darkest (ColorBrewer RdBu).
HOTSPOT_STYLES: dict[tuple[bool, int], tuple[str, str]] = {
    (True, 99): ("#b2182b", "Hot spot, 99% confidence"),
    (True, 95): ("#ef8a62", "Hot spot, 95% confidence"),
    (True, 90): ("#fddbc7", "Hot spot, 90% confidence"),
    (False, 90): ("#d1e5f0", "Cold spot, 90% confidence"),
    (False, 95): ("#67a9cf", "Cold spot, 95% confidence"),
    (False, 99): ("#2166ac", "Cold spot, 99% confidence"),
}
NOT_SIGNIFICANT = "Not significant"
# Report counts in five classes, light to dark (ColorBrewer Blues).
COUNT_COLOURS = ("#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")


def hotspot_label(cell: MapCell) -> str:
    """ "Hot spot, 99% confidence", "Cold spot, 90% confidence" or "Not significant"."""
    result = cell.result
    if result.hot is None or result.confidence is None:
        return NOT_SIGNIFICANT
    return HOTSPOT_STYLES[(bool(result.hot), result.confidence)][1]


def count_classes(largest: int) -> list[tuple[int, int]]:
    """Up to five classes (lowest, highest) covering 1 to ``largest`` reports, in even steps
    rounded to whole reports; fewer classes when there are fewer distinct counts."""
    if largest <= 0:
        return []
    steps = min(len(COUNT_COLOURS), largest)
    edges = [round(largest * (i + 1) / steps) for i in range(steps)]
    classes: list[tuple[int, int]] = []
    low = 1
    for high in edges:
        if high >= low:
            classes.append((low, high))
            low = high + 1
    return classes


def _class_of(count: int, classes: list[tuple[int, int]]) -> int:
    return next(i for i, (low, high) in enumerate(classes) if low <= count <= high)


@dataclass(frozen=True)
class LegendItem:
    colour: str
    text: str
    pattern: str = "solid"  # "solid", "heavy" (hot spot) or "dashed" (cold spot)


@dataclass(frozen=True)
class DashboardMap:
    """The rendered map, the JavaScript names of its three layers, and each layer's legend."""

    rendered: RenderedMap
    layer_names: dict[str, str]
    legends: dict[str, list[LegendItem]]


def _hexagon(cell: int) -> list[list[list[float]]]:
    return [[[lon, lat] for lon, lat in hexes.boundary(cell)]]


def _features(items: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": _hexagon(cell)}}
            for cell, props in items
        ],
    }


def _add_hexagons(items: list[tuple[int, dict[str, Any]]], group: folium.FeatureGroup) -> None:
    """Draw ``items`` (cell, {"label", "style"}) as hexagons in ``group``, each with its label."""
    if items:
        folium.GeoJson(
            _features(items),
            style_function=lambda f: f["properties"]["style"],
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
            control=False,
        ).add_to(group)


def _group(name: str, shown: bool) -> folium.FeatureGroup:
    return folium.FeatureGroup(name=name, show=shown, control=False)


def dashboard_map(
    cells: Mapping[int, MapCell], outlines: dict[str, Any], *, layer: str, ward_names: Mapping[str, str]
) -> DashboardMap:
    """A folium map of ``cells`` (``app.hotspots.analysis.map_cells``) over the ward
    ``outlines`` (GeoJSON of the wards in view), showing ``layer`` first. Raises ValueError for
    an unknown layer (the view checks it first)."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}")
    m = base_map(wards=outlines, fit_city=False)
    bounds = _bounds(outlines)
    m.fit_bounds(bounds)

    with_reports = sorted((c for c in cells.values() if c.count > 0), key=lambda c: c.cell)
    largest = max((c.count for c in with_reports), default=0)
    classes = count_classes(largest)

    def where(cell: MapCell) -> str:
        return " and ".join(ward_names.get(w, w) for w in cell.wards)

    counts_group = _group("Report counts", layer == "counts")
    items = []
    for cell in with_reports:
        colour = COUNT_COLOURS[_class_of(cell.count, classes) + len(COUNT_COLOURS) - len(classes)]
        label = f"{cell.count:,} report{'' if cell.count == 1 else 's'} ({where(cell)})"
        style = {"color": "#0b0c0c", "weight": 1, "fillColor": colour, "fillOpacity": 0.75}
        items.append((cell.cell, {"label": label, "style": style}))
    _add_hexagons(items, counts_group)
    counts_group.add_to(m)

    hot_group = _group("Hot and cold spots", layer == "hotspots")
    items = []
    for cell in sorted(cells.values(), key=lambda c: c.cell):
        label = hotspot_label(cell)
        result = cell.result
        if result.hot is None or result.confidence is None:
            style = {"color": "#505a5f", "weight": 0.5, "fillOpacity": 0, "opacity": 0.6}
        else:
            colour = HOTSPOT_STYLES[(bool(result.hot), result.confidence)][0]
            style = {
                "color": "#0b0c0c",
                "weight": 3 if result.hot else 2,
                "dashArray": None if result.hot else "5 4",
                "fillColor": colour,
                "fillOpacity": 0.8,
            }
        text = f"{label}: {cell.count:,} report{'' if cell.count == 1 else 's'} ({where(cell)})"
        items.append((cell.cell, {"label": text, "style": style}))
    _add_hexagons(items, hot_group)
    hot_group.add_to(m)

    heat_group = _group("Heat map", layer == "heat")
    if with_reports:
        points = [[hexes.centre(c.cell)[1], hexes.centre(c.cell)[0], float(c.count)] for c in with_reports]
        # leaflet.heat divides each weight by 2^(max_zoom - zoom): a max_zoom at or below the
        # map's least zoom keeps the colours meaning the same counts at every zoom.
        heat = HeatMap(points, radius=30, blur=20, min_opacity=0.3, max=float(largest), max_zoom=10)  # type: ignore[no-untyped-call]
        heat.default_js = [("leaflet-heat.js", url_for("static", filename="build/leaflet.heat/leaflet-heat.js"))]
        heat.add_to(heat_group)
    heat_group.add_to(m)

    legends = {
        "counts": [
            LegendItem(COUNT_COLOURS[i + len(COUNT_COLOURS) - len(classes)], _range_text(low, high))
            for i, (low, high) in enumerate(classes)
        ],
        "hotspots": [
            LegendItem(colour, text, "heavy" if hot else "dashed")
            for (hot, _), (colour, text) in HOTSPOT_STYLES.items()
        ]
        + [LegendItem("#ffffff", f"{NOT_SIGNIFICANT} (outline only)")],
        "heat": [
            LegendItem("#0000ff", "Fewest reports (blue), through green and yellow,"),
            LegendItem("#ff0000", f"to most reports (red): {largest:,} in one hexagon"),
        ],
    }
    return DashboardMap(
        rendered=render(m),
        layer_names={
            "counts": counts_group.get_name(),
            "hotspots": hot_group.get_name(),
            "heat": heat_group.get_name(),
        },
        legends=legends,
    )


def _range_text(low: int, high: int) -> str:
    if low == high:
        return f"{low:,} report{'' if low == 1 else 's'}"
    return f"{low:,} to {high:,} reports"


def _bounds(outlines: dict[str, Any]) -> list[list[float]]:
    """[[south, west], [north, east]] of the outlines, or the city's when there are none."""
    lons: list[float] = []
    lats: list[float] = []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], (int, float)):
            lons.append(float(coords[0]))
            lats.append(float(coords[1]))
            return
        for part in coords:
            walk(part)

    for feature in outlines.get("features", []):
        walk(feature["geometry"]["coordinates"])
    if not lons:
        return COVENTRY_BOUNDS
    return [[min(lats), min(lons)], [max(lats), max(lons)]]
