"""The ward dashboard's pages. Alerts (``alert_views``) and exports (``export_views``) add
their routes to the same blueprint.

``/dashboard`` is for ward officers (their wards), coordinators (their organisations' coverage)
and administrators (the city): ``permissions.can_view_dashboard`` (403 otherwise), then the
filters (``parse_filter``, which checks them against ``permissions.dashboard_scope``; a bad
value shows the page again with the error, status 400, what was chosen kept), then the figures
(``app.hotspots.dashboard.build``).
"""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from app import permissions
from app.db import utcnow
from app.extensions import db
from app.forms import summary_of
from app.geography.services import ward_names, ward_outlines
from app.hotspots import dashboard as dashboard_service
from app.hotspots.charts import period_label, trend_chart
from app.hotspots.filters import PERIODS, parse_filter
from app.hotspots.layers import DEFAULT_LAYER, LAYERS, dashboard_map, hotspot_label
from app.reports.categories import all_categories
from app.reports.models import Category, ReportStatus
from app.reports.queries import FilterError

bp = Blueprint("hotspots", __name__, template_folder="templates")

NO_WARDS = (
    "You may see the dashboard for the wards your organisations cover, and they cover none yet. "
    "A coordinator sets an organisation's wards and categories on its coverage page."
)


def _choices(
    scope: dict[str, frozenset[int] | None], names: dict[str, str], categories: list[Category]
) -> tuple[dict[str, str], list[Category]]:
    """The wards (code: name, in name order) and categories the viewer may choose from."""
    wards = {code: name for code, name in names.items() if code in scope}
    if any(allowed is None for allowed in scope.values()):
        return wards, categories
    allowed_ids: set[int] = set()
    for allowed in scope.values():
        allowed_ids |= allowed or frozenset()
    return wards, [c for c in categories if c.id in allowed_ids]


@bp.get("/dashboard")
@login_required
def dashboard() -> Any:
    permissions.require(permissions.can_view_dashboard(current_user))
    names = ward_names(db.session)
    scope = permissions.dashboard_scope(current_user, list(names))
    if not scope:
        abort(403, description=NO_WARDS)
    every_category = all_categories(db.session)
    wards, categories = _choices(scope, names, every_category)
    args = request.args
    errors: dict[str, str] = {}
    filters = None
    try:
        filters = parse_filter(
            db.session,
            current_user,
            ward=args.get("ward"),
            period=args.get("period"),
            categories=args.getlist("category"),
            statuses=args.getlist("status"),
        )
    except FilterError as exc:
        errors[exc.field] = str(exc)
    except PermissionError:
        abort(403, description=NO_WARDS)
    layer = (args.get("layer") or "").strip() or DEFAULT_LAYER
    if layer not in LAYERS:
        errors["layer"] = "Choose what the map shows: report counts, hot and cold spots, or a heat map"
    figures = None
    rendered = None
    if filters is not None and not errors:
        figures = dashboard_service.build(db.session, filters, names, now=utcnow())
        every_ward = cast(list[dict[str, Any]], ward_outlines(db.session)["features"])
        outlines = {
            "type": "FeatureCollection",
            "features": [f for f in every_ward if f["properties"]["code"] in filters.wards],
        }
        rendered = dashboard_map(figures.cells, outlines, layer=layer, ward_names=names)
    return render_template(
        "hotspots/dashboard.html",
        wards=wards,
        categories=categories,
        category_names={c.id: c.name for c in every_category},
        statuses=list(ReportStatus),
        periods=PERIODS,
        layers=LAYERS,
        layer=layer,
        args=args,
        filters=filters,
        figures=figures,
        ward_names=names,
        map=rendered.rendered if rendered else None,
        dashboard_map=rendered,
        hotspot_label=hotspot_label,
        trend_chart=trend_chart,
        period_label=period_label,
        errors=errors,
        error_summary=summary_of(errors),
    ), (400 if errors else 200)


# Registered on ``bp`` when imported; at the bottom so that they can import ``bp``.
from app.hotspots import alert_views, export_views  # noqa: E402, F401
