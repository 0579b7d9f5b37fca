"""Public updates, internal notes, status changes, replies and merges on a case."""

from __future__ import annotations
