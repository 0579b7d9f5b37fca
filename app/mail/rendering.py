"""Rendering emails from the Jinja templates in ``app/mail/templates/mail/``.

Each email ``NAME`` has ``NAME.txt`` and ``NAME.html``. The text template defines the
subject in ``{% block subject %}``; both parts get it as ``subject`` (the HTML uses it for
its ``<title>`` and heading), so it is written once.
"""

from __future__ import annotations

import textwrap
from typing import Any, NamedTuple

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

SUBJECT_PREFIX = "TellUs Coventry: "

# Separate from the app's environment: emails need no request, and a context variable the
# caller forgot must fail loudly (StrictUndefined) rather than send a blank link.
_env = Environment(
    loader=PackageLoader("app.mail", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def hours_text(hours: int) -> str:
    """ "1 hour", "2 hours"; whole days from 48 hours on ("3 days")."""
    if hours >= 48 and hours % 24 == 0:
        return f"{hours // 24} days"
    return "1 hour" if hours == 1 else f"{hours} hours"


_env.filters["hours"] = hours_text


class RenderedEmail(NamedTuple):
    subject: str
    text: str
    html: str


def render_email(name: str, /, **context: Any) -> RenderedEmail:
    """Render the email ``name`` (e.g. "verify_email") with ``context``.

    Returns the subject (starting "TellUs Coventry: "), the plain-text part and the HTML
    part. Raises jinja2.TemplateNotFound for an unknown name and jinja2.UndefinedError if
    the context lacks a variable the template uses.
    """
    text_template = _env.get_template(f"mail/{name}.txt")
    block = text_template.blocks.get("subject")
    if block is None:
        raise ValueError(f"mail/{name}.txt has no subject block")
    raw_subject = "".join(block(text_template.new_context(dict(context))))
    # One line, whatever the template or the data held: a header cannot contain newlines.
    subject = SUBJECT_PREFIX + " ".join(raw_subject.split())
    full = {**context, "subject": subject}
    text = text_template.render(full)
    html = _env.get_template(f"mail/{name}.html").render(full)
    return RenderedEmail(subject=subject, text=_tidy(text), html=html)


def _tidy(text: str) -> str:
    """Wrap lines at 72 characters (never inside a link), strip trailing spaces and
    collapse runs of blank lines left by the template logic."""
    tidy: list[str] = []
    for line in text.strip().splitlines():
        line = line.rstrip()
        if not line and (not tidy or not tidy[-1]):
            continue
        tidy.extend(textwrap.wrap(line, width=72, break_long_words=False, break_on_hyphens=False) or [""])
    return "\n".join(tidy) + "\n"
