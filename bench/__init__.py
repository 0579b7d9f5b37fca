"""Benchmarks for TellUs Coventry (not tests): see docs/benchmarks.md.

Run them as modules from the repository root, for example::

    .venv/bin/python -m bench.bulk_load --db postgis --reports 1000000
    .venv/bin/python -m bench.bbox --db postgis --reports 1000000 --keep
"""
