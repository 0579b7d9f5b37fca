"""TOTP second factor (RFC 6238), with replay protection and a QR code made locally."""

from __future__ import annotations

import datetime as dt
import io

import pyotp
import segno

ISSUER = "TellUs Coventry"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """An inline SVG QR code (no image service is called)."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False, svgns=True, title="QR code")
    return out.getvalue().decode()


def matching_step(secret: str, code: str, *, now: dt.datetime, last_step: int | None) -> int | None:
    """The time step ``code`` is valid for (allowing one step of clock drift), or None.

    A step at or before ``last_step`` is refused, so an observed code cannot be replayed.
    """
    digits = "".join(ch for ch in code if ch.isdigit())
    if len(digits) != 6:
        return None
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if (last_step is None or candidate > last_step) and totp.at(candidate * totp.interval) == digits:
            return candidate
    return None
