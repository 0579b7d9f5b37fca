"""Residents' reports: categories, the report form, photos and the public map and list."""
