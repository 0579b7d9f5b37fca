"""Public pages for reports: report a concern, the list, a report's page, photos, map data."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from app.accounts.tokens import TokenError
from app.extensions import db
from app.forms import error_summary
from app.geography.services import lookup_postcode, ward_for_point, ward_names, ward_outlines
from app.mail.services import public_url
from app.maps import base_map, render
from app.reports import map_layers
from app.reports.forms import ReportForm
from app.reports.models import Category, Photo, Report
from app.reports.photos import MAX_PHOTOS, PhotoError, photo_path
from app.reports.queries import (
    FilterError,
    ReportFilter,
    count_reports,
    get_public_report,
    list_reports,
    map_features,
    parse_filter,
)
from app.reports.services import (
    NewReport,
    ReportError,
    confirm_report,
    create_report,
    pending_photos,
    request_confirmation,
    store_pending_photo,
)
from geo.bbox import parse_bbox
from geo.coords import Point, validate_point
from geo.errors import GeoError, InvalidCoordinates

bp = Blueprint("reports", __name__, template_folder="templates")

PENDING_KEY = "pending_photos"
JUST_REPORTED_KEY = "just_reported"


def _categories() -> list[Category]:
    from sqlalchemy import select

    return list(db.session.scalars(select(Category).where(Category.active).order_by(Category.position)))


def _request_filter() -> ReportFilter:
    """The filters in the query string. Raises FilterError for a bad value."""
    return parse_filter(
        db.session,
        categories=request.args.getlist("category"),
        statuses=request.args.getlist("status"),
        ward=request.args.get("ward"),
        start=request.args.get("from"),
        end=request.args.get("to"),
    )


def _filter_from_args() -> tuple[ReportFilter, list[dict[str, str]], dict[str, str]]:
    """Parse the shared filters; on a bad value, return no filter plus the error to show."""
    try:
        filters = _request_filter()
    except FilterError as exc:
        return ReportFilter(), [{"text": str(exc), "href": f"#filter-{exc.field}"}], {exc.field: str(exc)}
    return filters, [], {}


def _filter_context() -> dict[str, Any]:
    return {
        "categories": _categories(),
        "wards": ward_names(db.session),
        "args": request.args,
    }


# --- Report a concern -----------------------------------------------------------------------


@bp.get("/report")
def start() -> Any:
    errors: dict[str, str] = {}
    postcode = request.args.get("postcode")
    if postcode is not None:
        try:
            match = lookup_postcode(db.session, postcode)
        except GeoError as exc:
            errors["postcode"] = str(exc)
        else:
            return redirect(url_for(".details", lat=match.point.lat, lon=match.point.lon, postcode=match.postcode))
    return _render_start(errors, status=400 if errors else 200)


def _render_start(errors: dict[str, str], status: int = 200) -> Any:
    summary = [{"text": text, "href": f"#{field}"} for field, text in errors.items()]
    m = render(base_map(wards=ward_outlines(db.session)))
    return (
        render_template("reports/start.html", map=m, errors=errors, error_summary=summary, args=request.args),
        status,
    )


COVENTRY_CENTRE_POINT = Point(lon=-1.5106, lat=52.4081)


def _point_and_ward(lat: str | None, lon: str | None) -> tuple[Point, Any]:
    """Validate a submitted point and find its ward. Raises GeoError with a message to show."""
    if not (lat or "").strip() and not (lon or "").strip():
        raise InvalidCoordinates("Choose where the problem is: enter a postcode or click the map")
    point = validate_point(lon, lat)
    return point, ward_for_point(db.session, point)


@bp.get("/report/details")
def details() -> Any:
    try:
        point, ward = _point_and_ward(request.args.get("lat"), request.args.get("lon"))
    except GeoError as exc:
        return _render_start({"location": str(exc)}, status=400)
    known = current_user if current_user.is_authenticated else None
    form = ReportForm(
        formdata=None,
        lat=f"{point.lat:.6f}",
        lon=f"{point.lon:.6f}",
        email=known.email if known else None,
        name=known.display_name if known else None,
    )
    return _render_details(form, point, ward, [], {})


def _render_details(
    form: ReportForm, point: Point, ward: Any, photos: list[Photo], errors: dict[str, list[str]], status: int = 200
) -> Any:
    categories = _categories()
    form.category.choices = [(c.slug, c.name) for c in categories]
    m = base_map(wards=ward_outlines(db.session), location=(point.lat, point.lon), zoom=17, fit_city=False)
    return (
        render_template(
            "reports/details.html",
            form=form,
            map=render(m),
            point=point,
            ward=ward,
            categories=categories,
            photos=photos,
            errors=errors,
            error_summary=error_summary(errors),
            postcode=request.args.get("postcode"),
            max_photos=MAX_PHOTOS,
        ),
        status,
    )


def _session_pending() -> list[str]:
    return list(session.get(PENDING_KEY, []))


def _take_photos(form: ReportForm, errors: dict[str, list[str]]) -> list[Photo]:
    """Keep the photos already uploaded with this form and process the new ones."""
    owned = set(_session_pending())
    kept_ids = [pid for pid in (f.data for f in form.kept_photos) if pid in owned]
    kept = pending_photos(db.session, kept_ids)
    files: list[FileStorage] = [f for f in request.files.getlist(form.photos.name) if f and f.filename]
    for upload in files:
        if len(kept) >= MAX_PHOTOS:
            errors.setdefault("photos", []).append(
                f"You can add up to {MAX_PHOTOS} photos: {upload.filename} was not added"
            )
            continue
        try:
            photo = store_pending_photo(
                db.session, current_app.config["UPLOAD_DIR"], upload.stream, upload.filename or ""
            )
        except PhotoError as exc:
            errors.setdefault("photos", []).append(str(exc))
            continue
        kept.append(photo)
        owned.add(photo.id)
    session[PENDING_KEY] = [pid for pid in _session_pending() + [p.id for p in kept] if pid in owned][-10:]
    return kept


@bp.post("/report/details")
def submit() -> Any:
    form = ReportForm()
    form.category.choices = [(c.slug, c.name) for c in _categories()]
    errors: dict[str, list[str]] = {}
    point, ward = COVENTRY_CENTRE_POINT, None
    try:
        point, ward = _point_and_ward(form.lat.data, form.lon.data)
    except GeoError as exc:
        errors["location"] = [str(exc)]
        try:
            point = validate_point(form.lon.data, form.lat.data)
        except GeoError:
            form.lat.data, form.lon.data = f"{point.lat:.6f}", f"{point.lon:.6f}"
    photos = _take_photos(form, errors)
    form.validate()
    errors.update({name: list(msgs) for name, msgs in form.errors.items() if name != "kept_photos"})
    if errors or ward is None:
        return _render_details(form, point, ward, photos, _ordered(errors, form), status=400)
    category = next(c for c in _categories() if c.slug == form.category.data)
    try:
        report = create_report(
            db.session,
            NewReport(
                category_id=category.id,
                title=form.title.data or "",
                description=form.description.data or "",
                point=point,
                # A signed-in person's updates go to their account's address.
                reporter_email=current_user.email if current_user.is_authenticated else (form.email.data or ""),
                reporter_name=form.name.data,
                show_name=bool(form.show_name.data),
                photo_ids=[p.id for p in photos],
            ),
            reporter=current_user if current_user.is_authenticated else None,
        )
    except (ReportError, GeoError) as exc:
        field = getattr(exc, "field", "location")
        return _render_details(form, point, ward, photos, {field: [str(exc)]}, status=400)
    session[PENDING_KEY] = [pid for pid in _session_pending() if pid not in {p.id for p in photos}]
    session[JUST_REPORTED_KEY] = report.id
    if report.is_published:
        return redirect(url_for(".show", report_id=report.id))
    request_confirmation(db.session, report, confirm_link=lambda raw: public_url(url_for(".confirm", token=raw)))
    return redirect(url_for(".sent", report_id=report.id))


@bp.get("/report/sent/<int:report_id>")
def sent(report_id: int) -> Any:
    # Only the browser that made the report sees this page (it shows the email used).
    if session.get(JUST_REPORTED_KEY) != report_id:
        abort(404)
    report = db.session.get(Report, report_id)
    if report is None:
        abort(404)
    return render_template("reports/sent.html", report=report)


@bp.get("/reports/confirm/<token>")
def confirm(token: str) -> Any:
    try:
        report = confirm_report(db.session, token)
    except TokenError as exc:
        return render_template("accounts/link_problem.html", message=str(exc)), 400
    session[JUST_REPORTED_KEY] = report.id
    return redirect(url_for(".show", report_id=report.id, confirmed=1))


def _ordered(errors: dict[str, list[str]], form: ReportForm) -> dict[str, list[str]]:
    order = [f.name for f in form]
    return dict(sorted(errors.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))


# --- Reading reports ------------------------------------------------------------------------


@bp.get("/reports")
def index() -> Any:
    filters, summary, errors = _filter_from_args()
    box = None
    if request.args.get("bbox"):
        try:
            box = parse_bbox(request.args["bbox"])
        except GeoError as exc:
            summary.append({"text": f"The map area is not valid: {exc}", "href": "#filter-category"})
            errors["bbox"] = str(exc)
    per_page = current_app.config["PAGE_SIZE"]
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    total = count_reports(db.session, filters, box)
    last_page = max(1, -(-total // per_page))
    page = min(page, last_page)
    reports = list_reports(db.session, filters, page=page, per_page=per_page, box=box)
    return render_template(
        "reports/index.html",
        reports=reports,
        total=total,
        page=page,
        last_page=last_page,
        error_summary=summary,
        errors=errors,
        ward_lookup=ward_names(db.session),
        in_area=box is not None,
        city_args={k: v for k, v in request.args.lists() if k not in {"bbox", "page"}},
        **_filter_context(),
    ), (400 if errors else 200)


def render_report(report_id: int, *, status: int = 200, **extra: Any) -> Any:
    """A report's public page (404 unless it is published), with ``extra`` in its context: the
    updates and the reporter's forms (app/coordination/message_views.py) render it too."""
    report = get_public_report(db.session, report_id)
    if report is None:
        abort(404)
    m = map_layers.report_map(report, ward_outlines(db.session))
    wards = ward_names(db.session)
    return render_template(
        "reports/show.html",
        report=report,
        map=render(m),
        ward_name=wards.get(report.ward_code) if report.ward_code else None,
        **extra,
    ), status


@bp.get("/reports/<int:report_id>")
def show(report_id: int) -> Any:
    from app.coordination.message_views import report_page_context

    found = db.session.get(Report, report_id)
    if found is None or not found.is_published:
        abort(404)
    just_reported = session.pop(JUST_REPORTED_KEY, None) == report_id
    return render_report(report_id, just_reported=just_reported, **report_page_context(found))


@bp.get("/photos/<photo_id>.jpg")
@bp.get("/photos/<photo_id>/thumb.jpg", defaults={"thumb": True})
def photo(photo_id: str, thumb: bool = False) -> Any:
    record = db.session.get(Photo, photo_id) if len(photo_id) == 32 else None
    if record is None:
        abort(404)
    if record.report_id is None:
        # A photo waiting on an unfinished form is visible only to the person uploading it.
        if photo_id not in _session_pending():
            abort(404)
    else:
        report = get_public_report(db.session, record.report_id)
        if report is None or photo_id not in report.photo_ids:
            abort(404)
    path = photo_path(current_app.config["UPLOAD_DIR"], photo_id, thumb=thumb)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype="image/jpeg", max_age=3600)


@bp.get("/api/reports.geojson")
def geojson() -> Any:
    try:
        box = parse_bbox(request.args.get("bbox"))
    except GeoError as exc:
        return jsonify(error=str(exc), field="bbox"), 400
    try:
        filters = _request_filter()
    except FilterError as exc:
        return jsonify(error=str(exc), field=exc.field), 400
    data = map_features(
        db.session,
        box,
        filters,
        max_points=current_app.config["MAP_MAX_POINTS"],
        url_for_report=lambda rid: url_for(".show", report_id=rid),
    )
    response = jsonify(data)
    response.headers["Cache-Control"] = "public, max-age=30"
    return response
