"""Shared form helpers for the GOV.UK error summary pattern."""

from __future__ import annotations


def error_summary(errors: dict[str, list[str]]) -> list[dict[str, str]]:
    """Turn {field: [messages]} into the error summary's list, each linking to its field."""
    return [{"text": message, "href": f"#{field}"} for field, messages in errors.items() for message in messages]


def summary_of(errors: dict[str, str]) -> list[dict[str, str]]:
    """Turn {field: message} into the error summary's list, each linking to its field."""
    return [{"text": message, "href": f"#{field}"} for field, message in errors.items()]
