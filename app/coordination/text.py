"""Text people type into cases: cleaning it before it is stored, and finding @mentions in it.

Messages are stored as plain text and escaped whenever they are shown (the ``paragraphs``
filter in ``app.templating`` turns their newlines into paragraphs and line breaks), so cleaning
here is about what a person meant to type, not about HTML:

- Unicode is normalised to NFC, so "é" typed as one character or as "e" plus an accent is the
  same text (and the same length) whatever the keyboard sent;
- line endings become ``\\n`` (Windows ``\\r\\n``, old Mac ``\\r``, and the Unicode line and
  paragraph separators);
- control characters are dropped, except newlines and tabs: a NUL byte (which PostgreSQL
  refuses in text), escape sequences that would colour a terminal reading the logs, and the
  like have no meaning in a message;
- leading and trailing whitespace is trimmed, and a message that is then empty is refused;
- at most ``models.BODY_MAX`` characters, counted after cleaning.

**Mentions.** Everyone who can be mentioned on a case has a *handle*: their display name in
lower case, with accents removed and every run of other characters turned into one ".", so
"Siân O'Neil" is ``@sian.o.neil``. Names, not email addresses, because a handle can appear in
a public update and an address must never be public. Two people on the same case with the same
name are told apart by a number, ``@sam.jones`` and ``@sam.jones-2``, given in the order their
accounts were created, so a handle does not change when someone newer joins. A mention is "@"
followed by a handle, not preceded by a letter, digit or one of ``.+-`` (so the "@" inside an
email address such as sam@example.org is not a mention); handles are matched ignoring case.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from app.accounts.models import User
from app.coordination.errors import CoordinationError
from app.coordination.models import BODY_MAX

_NEWLINES = re.compile(r"\r\n|\r|\u2028|\u2029|\x85")
_KEPT_CONTROLS = {"\n", "\t"}
# A handle: letters and digits, with ".", "_" or "-" between them (never at either end).
_HANDLE = r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?"
_MENTION = re.compile(rf"(?<![\w.+-])@({_HANDLE})", re.IGNORECASE)


def normalise(text: str | None) -> str:
    """``text`` in NFC, with ``\\n`` line endings, without control characters other than
    newlines and tabs, trimmed. Never raises; an empty or missing text gives ""."""
    text = unicodedata.normalize("NFC", text or "")
    text = _NEWLINES.sub("\n", text)
    # Cc: control characters; Cs: lone surrogates, which cannot be stored as UTF-8.
    text = "".join(c for c in text if c in _KEPT_CONTROLS or unicodedata.category(c) not in {"Cc", "Cs"})
    return text.strip()


def too_long(text: str, limit: int = BODY_MAX) -> str | None:
    """The message to show if ``text`` is over ``limit`` characters, or None."""
    if len(text) <= limit:
        return None
    return f"Write {limit:,} characters or fewer: this has {len(text):,}, so remove {len(text) - limit:,}."


def clean(text: str | None, *, field: str, empty: str, limit: int = BODY_MAX) -> str:
    """``text`` normalised (see ``normalise``) and checked.

    Raises CoordinationError({field: message}) if nothing is left once it is cleaned (with the
    message ``empty``) or if it is longer than ``limit`` characters.
    """
    cleaned = normalise(text)
    if not cleaned:
        raise CoordinationError({field: empty})
    problem = too_long(cleaned, limit)
    if problem:
        raise CoordinationError({field: problem})
    return cleaned


def mentioned_handles(text: str) -> list[str]:
    """The handles mentioned in ``text``, lower-cased, each once, in the order they appear."""
    found: list[str] = []
    for match in _MENTION.finditer(text):
        handle = match.group(1).lower()
        if handle not in found:
            found.append(handle)
    return found


def handle_base(user: User) -> str:
    """The handle ``user`` gets when nobody else on the case has the same one."""
    folded = unicodedata.normalize("NFKD", user.display_name or "")
    ascii_only = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    base = re.sub(r"[^a-z0-9]+", ".", ascii_only).strip(".")
    return base or f"user.{user.id}"


def assign_handles(people: Iterable[User]) -> dict[str, User]:
    """{handle: person} for everyone in ``people``: unique, and stable as others join (the
    earliest account keeps the plain handle; later ones get "-2", "-3", ...)."""
    handles: dict[str, User] = {}
    for person in sorted({p.id: p for p in people}.values(), key=lambda p: p.id):
        base = handle_base(person)
        handle, n = base, 1
        while handle in handles:
            n += 1
            handle = f"{base}-{n}"
        handles[handle] = person
    return handles
