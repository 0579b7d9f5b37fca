"""Jinja set-up: our templates first, then govuk-frontend-jinja's macros."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Flask
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

LONDON = ZoneInfo("Europe/London")


def local_date(value: dt.datetime, fmt: str = "%-d %B %Y") -> str:
    return value.astimezone(LONDON).strftime(fmt)


def local_datetime(value: dt.datetime) -> str:
    return value.astimezone(LONDON).strftime("%-d %B %Y at %-I:%M%p").replace("AM", "am").replace("PM", "pm")


def init_templating(app: Flask) -> None:
    assert app.jinja_loader is not None
    app.jinja_loader = ChoiceLoader(
        [app.jinja_loader, PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")})]
    )
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
