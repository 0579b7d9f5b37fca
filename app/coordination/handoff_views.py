"""Handing the lead role of a case to another organisation."""

from __future__ import annotations
