"""Home (the public map) and information pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from app.extensions import db
from app.geography.services import ward_names, ward_outlines
from app.maps import base_map, render
from app.reports.models import ReportStatus
from app.reports.views import _categories

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.get("/")
def home() -> Any:
    m = render(base_map(wards=ward_outlines(db.session)))
    return render_template(
        "pages/home.html",
        map=m,
        categories=_categories(),
        wards=ward_names(db.session),
        statuses=list(ReportStatus),
        args=request.args,
    )


@bp.get("/about/data")
def data() -> Any:
    return render_template("pages/data.html")


@bp.get("/accessibility")
def accessibility() -> Any:
    return render_template("pages/accessibility.html")
