"""``flask hotspots ...``: rebuild and check the counts, load ward populations."""

from __future__ import annotations

from flask.cli import AppGroup

hotspots_cli = AppGroup("hotspots", help="The ward dashboard's counts and reference figures.")
