"""Response targets, priorities and time remaining."""

from __future__ import annotations
