"""What the coordination services raise."""

from __future__ import annotations

from app.partners.models import Organisation


class CoordinationError(ValueError):
    """Input that cannot be used; ``errors`` maps each form field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class ClaimConflict(CoordinationError):
    """Another organisation leads the case already; ``lead`` is that organisation."""

    def __init__(self, lead: Organisation) -> None:
        super().__init__({"role": f"{lead.label} leads this case now. You can still support it."})
        self.lead = lead
