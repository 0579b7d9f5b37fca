"""The organisation fixtures are shared with tests/partners."""

from tests.partners.conftest import make_organisation

__all__ = ["make_organisation"]
