"""Password hashing (argon2id) and the password rules of OWASP ASVS 5.0 level 2.

At least 8 characters (15 recommended), no composition rules, no truncation, and not one
of the 19,646 most common passwords.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

MIN_LENGTH = 8
RECOMMENDED_LENGTH = 15
# Long enough for any passphrase; a limit stops multi-megabyte hashing requests.
MAX_LENGTH = 1024

_COMMON = Path(__file__).parent / "data" / "common-passwords.txt.gz"


@cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(_COMMON, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def password_problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """Return what is wrong with a new password, as messages to show (empty if it is fine)."""
    if len(password) < MIN_LENGTH:
        return [f"Password must be at least {MIN_LENGTH} characters: we recommend {RECOMMENDED_LENGTH} or more"]
    if len(password) > MAX_LENGTH:
        return [f"Password must be {MAX_LENGTH} characters or fewer"]
    lowered = password.lower()
    if lowered in _common_passwords():
        return ["That password is too common: choose a longer one, such as three or four random words"]
    if email and lowered in {email.lower(), email.lower().split("@")[0]}:
        return ["Password must not be your email address"]
    if name and lowered == name.lower():
        return ["Password must not be your name"]
    return []


@cache
def _hasher_for(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


def _hasher() -> PasswordHasher:
    """argon2id with the app's cost settings (OWASP: m=19 MiB, t=2 at least; we default higher)."""
    if has_app_context():
        return _hasher_for(current_app.config["ARGON2_TIME_COST"], current_app.config["ARGON2_MEMORY_KIB"])
    return _hasher_for(3, 65536)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; a missing hash never matches (but takes as long)."""
    if not password_hash:
        _hasher().hash(password)  # spend the same time, so timing does not reveal unknown accounts
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
