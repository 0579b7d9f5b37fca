"""CSV and GeoJSON downloads of the dashboard: its filtered reports and its hotspot layer.

Each takes the dashboard's query string (ward, period, category, status; ``resolution`` for the
hotspot layer, the dashboard's own by default) and the dashboard's access: signed in (302),
``can_view_dashboard`` and a scope that is not empty (403), valid filters (400, saying what to
change). The body is streamed (``exports``); ``stream_with_context`` keeps the request's
context for it, and the database session it reads with is the request's (a new one: Flask tears
the first down when the view returns) and is closed when the stream ends or is abandoned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, abort, current_app, jsonify, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from app import permissions
from app.db import utcnow
from app.extensions import db
from app.hotspots import exports
from app.hotspots.filters import DashboardFilter, parse_filter
from app.hotspots.views import bp
from app.reports.queries import FilterError

# The parts of the dashboard's form each filter error points at.
_FIELD_LABELS = {
    "ward": "Ward",
    "period": "Period",
    "category": "Categories",
    "status": "Status",
    "resolution": "Hexagon size",
}
_FORMATS = 'any(csv, geojson, "csv-metadata.json")'
_MIMETYPES = {
    "csv": "text/csv; charset=utf-8; header=present",
    "geojson": "application/geo+json",
}
# A sentinel report number, replaced by "{id}" so that the URL is built once, not per row.
_SENTINEL_ID = 987654321


def _filters() -> DashboardFilter:
    """The dashboard's filters from the query string, for the signed-in person.

    Raises Forbidden if they may not see the dashboard (or see no ward), FilterError for a
    value to change."""
    permissions.require(permissions.can_view_dashboard(current_user))
    try:
        return parse_filter(
            db.session,
            current_user,
            ward=request.args.get("ward"),
            period=request.args.get("period"),
            categories=request.args.getlist("category"),
            statuses=request.args.getlist("status"),
        )
    except PermissionError:
        abort(403)


def _refused(exc: FilterError) -> Any:
    field = _FIELD_LABELS.get(exc.field, exc.field.capitalize())
    return render_template(
        "error.html",
        title="The download could not be made",
        message=f"{field}: {exc}. Go back to the dashboard, change this filter and download again.",
        code=400,
    ), 400


def _resolution(filters: DashboardFilter) -> int:
    """The ``resolution`` asked for, or the dashboard's. Raises FilterError for another value."""
    asked = (request.args.get("resolution") or "").strip()
    if not asked:
        return exports.default_resolution(filters)
    if asked not in {str(r) for r in exports.RESOLUTIONS}:
        raise FilterError("resolution", "Choose 8 (city hexagons) or 9 (ward hexagons)")
    return int(asked)


def _filename(kind: str, filters: DashboardFilter, extension: str) -> str:
    area = filters.ward or "all-wards"
    return f"tellus-{kind}-{area}-{filters.start.isoformat()}-to-{filters.end.isoformat()}.{extension}"


def _public_url(path: str) -> str:
    # On PUBLIC_BASE_URL, as in emails: never from the request's Host header.
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def _export_url(kind: str, fmt: str) -> str:
    """This download's URL in another format, with the same query string."""
    query: dict[str, Any] = request.args.to_dict(flat=False)
    return _public_url(url_for(f".export_{kind}", fmt=fmt, **query))


def _streamed(
    chunks: Callable[[Session], Iterator[str]], fmt: str, filename: str, *, metadata_url: str | None = None
) -> Response:
    def body() -> Iterator[str]:
        # The session the view used was closed when it returned; db.session opens the request's
        # next one, which the app context's teardown closes once the stream has been sent.
        yield from chunks(db.session)

    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        # Exact locations of sensitive reports may be in it: never kept by a shared cache.
        "Cache-Control": "private, no-store",
        "Link": f'<{exports.LICENCE["url"]}>; rel="license"',
    }
    if metadata_url:
        headers["Link"] += f', <{metadata_url}>; rel="describedby"; type="application/csvm+json"'
    return Response(stream_with_context(body()), mimetype=_MIMETYPES[fmt], headers=headers)


def _metadata_response(document: dict[str, Any]) -> Any:
    response = jsonify(document)
    response.mimetype = "application/csvm+json"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get(f"/dashboard/export/reports.<{_FORMATS}:fmt>")
@login_required
def export_reports(fmt: str) -> Any:
    try:
        filters = _filters()
    except FilterError as exc:
        return _refused(exc)
    report_url = _public_url(url_for("reports.show", report_id=_SENTINEL_ID)).replace(str(_SENTINEL_ID), "{id}")
    export = exports.prepare_reports(db.session, current_user, filters, report_url=report_url, now=utcnow())
    if fmt == "csv-metadata.json":
        return _metadata_response(
            exports.csvw_metadata(
                _export_url("reports", "csv"), exports.report_metadata(export), exports.REPORT_COLUMNS
            )
        )
    if fmt == "csv":
        metadata_url = _export_url("reports", "csv-metadata.json")
        return _streamed(
            lambda session: exports.reports_csv(session, export),
            fmt,
            _filename("reports", filters, "csv"),
            metadata_url=metadata_url,
        )
    return _streamed(
        lambda session: exports.reports_geojson(session, export), fmt, _filename("reports", filters, "geojson")
    )


@bp.get(f"/dashboard/export/hotspots.<{_FORMATS}:fmt>")
@login_required
def export_hotspots(fmt: str) -> Any:
    try:
        filters = _filters()
        resolution = _resolution(filters)
    except FilterError as exc:
        return _refused(exc)
    export = exports.prepare_hotspots(db.session, filters, resolution, now=utcnow())
    if fmt == "csv-metadata.json":
        return _metadata_response(
            exports.csvw_metadata(
                _export_url("hotspots", "csv"), exports.hotspot_metadata(export), exports.HOTSPOT_COLUMNS
            )
        )
    name = f"hotspots-r{resolution}"
    if fmt == "csv":
        metadata_url = _export_url("hotspots", "csv-metadata.json")
        return _streamed(
            lambda session: exports.hotspots_csv(export),
            fmt,
            _filename(name, filters, "csv"),
            metadata_url=metadata_url,
        )
    return _streamed(lambda session: exports.hotspots_geojson(export), fmt, _filename(name, filters, "geojson"))
