"""Actions on a case, and each person's own actions."""

from __future__ import annotations
