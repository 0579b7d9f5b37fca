"""Partnership performance (``/performance`` and its CSV) and the inbox map (``/inbox/map``).

Performance is for coordinators (their own organisations) and council administrators (every
organisation): ``permissions.can_view_performance`` per organisation, so another organisation's
id in the URL is 403. The inbox map takes exactly the inbox's arguments (``org`` and the
filters, read by ``views.inbox_filter``) and the same per-organisation check.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import sqlalchemy as sa
from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import noload

from app import permissions
from app.coordination.inbox_map import inbox_points
from app.coordination.performance import AGE_BUCKETS, Performance, parse_period, performance, plain_duration
from app.coordination.views import _int, _my_organisations, bp, inbox_filter, inbox_form_context, inbox_organisation
from app.db import utcnow
from app.extensions import db
from app.forms import summary_of
from app.geography.services import ward_outlines
from app.maps import base_map, render
from app.partners.models import Organisation
from app.reports.categories import all_categories
from app.reports.models import Category

# --- Partnership performance ---------------------------------------------------------------------


def _performance_choices() -> list[Organisation]:
    """The organisations whose figures the signed-in person may see: every organisation for
    administrators, their own as coordinator for everyone else."""
    if permissions.is_admin(current_user):
        return list(
            db.session.scalars(
                sa.select(Organisation)
                .options(noload(Organisation.wards), noload(Organisation.categories), noload(Organisation.memberships))
                .order_by(Organisation.name)
            )
        )
    mine = (m.organisation for m in current_user.memberships)
    return sorted((o for o in mine if permissions.can_view_performance(current_user, o)), key=lambda o: o.name)


class _Selection:
    """What the performance page was asked for, read from the query string."""

    def __init__(self, choices: list[Organisation], categories: list[Category]) -> None:
        """Raises NotFound for an organisation id that does not exist and Forbidden for one the
        signed-in person may not see; other bad values become ``errors``."""
        self.errors: dict[str, str] = {}
        self.organisation: Organisation | None = None
        org = (request.args.get("org") or "").strip()
        if org:
            found = db.session.get(Organisation, _int(org) or 0) or abort(404)
            permissions.require(permissions.can_view_performance(current_user, found))
            self.organisation = found
        self.organisations = [self.organisation] if self.organisation else choices
        self.category: Category | None = None
        slug = (request.args.get("category") or "").strip()
        if slug:
            self.category = next((c for c in categories if c.slug == slug), None)
            if self.category is None:
                self.errors["category"] = "Choose a category from the list"
        self.period, period_errors = parse_period(dict(request.args.items()), now=utcnow())
        self.errors.update(period_errors)


def _figures(selection: _Selection, categories: list[Category]) -> Performance:
    return performance(
        db.session,
        [o.id for o in selection.organisations],
        period=selection.period,
        category_id=selection.category.id if selection.category else None,
        category_ids=[c.id for c in categories],
        now=utcnow(),
    )


def _render(choices: list[Organisation], categories: list[Category], selection: _Selection) -> Any:
    figures = None if selection.errors else _figures(selection, categories)
    return render_template(
        "coordination/performance.html",
        choices=choices,
        categories=categories,
        category_names={c.id: c.name for c in categories},
        selection=selection,
        figures=figures,
        buckets=[label for label, _, _ in AGE_BUCKETS],
        plain_duration=plain_duration,
        period=selection.period,
        args={k: v for k, v in request.args.items() if v and k != "table"},
        errors=selection.errors,
        error_summary=summary_of(selection.errors),
    ), (400 if selection.errors else 200)


@bp.get("/performance")
@login_required
def performance_page() -> Any:
    permissions.require(permissions.can_view_any_performance(current_user))
    choices = _performance_choices()
    categories = all_categories(db.session)
    return _render(choices, categories, _Selection(choices, categories))


_TABLES = ("times", "ages")


def _csv_safe(text: str) -> str:
    # Spreadsheets run a cell that starts with one of these as a formula.
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _hours(value: Any) -> str:
    return "" if value is None else f"{value.total_seconds() / 3600:.1f}"


@bp.get("/performance.csv")
@login_required
def performance_csv() -> Any:
    permissions.require(permissions.can_view_any_performance(current_user))
    choices = _performance_choices()
    categories = all_categories(db.session)
    selection = _Selection(choices, categories)
    table = request.args.get("table", "times")
    if table not in _TABLES:
        # Only a hand-made URL gets here: the page links to both tables.
        selection.errors["table"] = "Choose the response times table or the ages of open cases table"
    if selection.errors:
        return _render(choices, categories, selection)
    figures = _figures(selection, categories)
    names = {c.id: c.name for c in categories}
    out = io.StringIO()
    writer = csv.writer(out)
    period = [selection.period.first.isoformat(), selection.period.last.isoformat()]
    if table == "times":
        writer.writerow(
            [
                "Organisation",
                "Category",
                "Published from",
                "Published to",
                "Cases led",
                "Acknowledged",
                "Median hours to acknowledge (calendar time)",
                "Acknowledged within target",
                "Acknowledgements with a known outcome",
                "Resolved",
                "Median hours to resolve (calendar time)",
                "Resolved within target",
                "Resolutions with a known outcome",
            ]
        )
        for org in selection.organisations:
            for row in [*figures.by_category[org.id], figures.overall[org.id]]:
                category = "All categories" if row.category_id is None else names.get(row.category_id, "")
                writer.writerow(
                    [
                        _csv_safe(org.label),
                        _csv_safe(category),
                        *period,
                        row.cases,
                        row.acknowledged,
                        _hours(row.median_acknowledge),
                        row.acknowledge_share.within,
                        row.acknowledge_share.decided,
                        row.resolved,
                        _hours(row.median_resolve),
                        row.resolve_share.within,
                        row.resolve_share.decided,
                    ]
                )
    else:
        writer.writerow(["Organisation", "Part", *[label for label, _, _ in AGE_BUCKETS], "Total"])
        for org in selection.organisations:
            ages = figures.ages[org.id]
            for part, counts in (("Leading", ages.led), ("Routed, nobody leads yet", ages.routed)):
                writer.writerow([_csv_safe(org.label), part, *counts, sum(counts)])
    filename = f"tellus-{'response-times' if table == 'times' else 'open-case-ages'}-{period[0]}-to-{period[1]}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- The inbox map -------------------------------------------------------------------------------


@bp.get("/inbox/map")
@login_required
def inbox_map() -> Any:
    organisation = inbox_organisation()
    if organisation is None:
        return redirect(url_for(".inbox"))
    filters, errors = inbox_filter()
    limit = current_app.config["MAP_MAX_POINTS"]
    points, total = inbox_points(db.session, organisation, filters, limit=limit)
    args = {k: v for k, v in request.args.items() if k != "page"}
    args["org"] = str(organisation.id)
    return render_template(
        "coordination/inbox_map.html",
        organisation=organisation,
        several=len(_my_organisations()) > 1,
        map=render(base_map(wards=ward_outlines(db.session))),
        features={"type": "FeatureCollection", "features": [p.feature() for p in points]},
        shown=len(points),
        limit=limit,
        total=total,
        **inbox_form_context(args, errors),
    ), (400 if errors else 200)
