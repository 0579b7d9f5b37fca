"""Jinja set-up: our templates first, then govuk-frontend-jinja's macros."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from flask import Flask
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from markupsafe import Markup, escape

LONDON = ZoneInfo("Europe/London")


def local_date(value: dt.datetime, fmt: str = "%-d %B %Y") -> str:
    return value.astimezone(LONDON).strftime(fmt)


def local_datetime(value: dt.datetime) -> str:
    return value.astimezone(LONDON).strftime("%-d %B %Y at %-I:%M%p").replace("AM", "am").replace("PM", "pm")


def paragraphs(text: str | None, css_class: str = "govuk-body") -> Markup:
    """Plain text as HTML paragraphs: escaped, a blank line between paragraphs, a line break for
    each single newline. For text people typed (public updates, notes, replies), stored plain."""
    blocks = re.split(r"\n(?:[ \t]*\n)+", (text or "").strip("\n"))
    return Markup("").join(
        Markup('<p class="{}">{}</p>').format(
            css_class, Markup("<br>\n").join(escape(line) for line in block.split("\n"))
        )
        for block in blocks
        if block.strip()
    )


def init_templating(app: Flask) -> None:
    assert app.jinja_loader is not None
    app.jinja_loader = ChoiceLoader(
        [app.jinja_loader, PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")})]
    )
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.filters["paragraphs"] = paragraphs
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
