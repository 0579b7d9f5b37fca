"""Shared form helpers for the GOV.UK error summary pattern."""

from __future__ import annotations

from typing import Any

from flask import render_template


def error_summary(errors: dict[str, list[str]]) -> list[dict[str, str]]:
    """Turn {field: [messages]} into the error summary's list, each linking to its field."""
    return [{"text": message, "href": f"#{field}"} for field, messages in errors.items() for message in messages]


def summary_of(errors: dict[str, str]) -> list[dict[str, str]]:
    """Turn {field: message} into the error summary's list, each linking to its field."""
    return [{"text": message, "href": f"#{field}"} for field, message in errors.items()]


def form_page(template: str, errors: dict[str, str], **context: Any) -> tuple[str, int]:
    """Render a form page with its errors and error summary: 400 when there are errors."""
    return render_template(template, errors=errors, error_summary=summary_of(errors), **context), (
        400 if errors else 200
    )
