"""Partnership performance and the inbox map."""

from __future__ import annotations
