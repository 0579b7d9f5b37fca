"""The ward officer dashboard (issue 6): H3 counts kept on every write, Getis-Ord Gi* hotspots
with the Benjamini-Hochberg correction, emerging problems, trends, the ward comparison, alerts
and exports. The statistics themselves are plain functions in ``geo`` (``geo.hexes``,
``geo.hotspot_stats``, ``geo.trends``); docs/hotspots.md explains the choices.
"""
