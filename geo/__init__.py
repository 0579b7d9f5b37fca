"""TellUs's spatial toolkit: Flask-free functions for coordinates, wards, coarsening,
grid clustering and the spatial SQL that runs on both SpatiaLite and PostGIS."""
