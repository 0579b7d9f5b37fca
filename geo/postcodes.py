"""UK postcode normalisation. Looking a postcode up is in ``geo.reference``."""

from __future__ import annotations

import re

from geo.errors import InvalidPostcode

# The shape of every UK postcode (BS 7666), plus the special GIR 0AA.
_POSTCODE = re.compile(r"^(?:[A-Z]{1,2}[0-9][A-Z0-9]?|GIR)[0-9][A-Z]{2}$")


def normalise_postcode(text: str | None) -> str:
    """Return ``text`` as a postcode in its published form, e.g. ``"cv15rr"`` -> ``"CV1 5RR"``.

    Case and spacing do not matter. Raises InvalidPostcode if it is empty or not shaped
    like a UK postcode.
    """
    compact = re.sub(r"\s+", "", text or "").upper()
    if not compact:
        raise InvalidPostcode("Enter a postcode, like CV1 5RR")
    if not _POSTCODE.match(compact):
        raise InvalidPostcode("Enter a real postcode, like CV1 5RR")
    return f"{compact[:-3]} {compact[-3:]}"


def outward_code(postcode: str) -> str:
    """Return the part before the space of a normalised postcode (``"CV1 5RR"`` -> ``"CV1"``)."""
    return postcode.split(" ", 1)[0]
