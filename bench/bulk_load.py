"""Time the bulk path (``app.reports.demo.generate``) into a fresh database.

Usage::

    .venv/bin/python -m bench.bulk_load --db postgis --reports 1000000
    .venv/bin/python -m bench.bulk_load --db spatialite --reports 1000000

Records the total time, the report inserts (which also compute each report's H3 cells) and
the cell rebuilds apart (the map's ``report_cells`` and the ward dashboard's ``hex_counts``),
rows/s, the database size and the number of ``report_cells`` and ``hex_counts`` rows, in
``bench/results/bulk_load_<db>_<N>.json``. The database is left in place for bench.bbox
(``--keep``).
"""

from __future__ import annotations

import argparse

from bench.common import (
    add_arguments,
    bulk_load,
    loadavg,
    machine,
    mb,
    open_database,
    other_load,
    save_meta,
    write_results,
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    bench, populated = open_database(args)
    if populated:
        print("The database is already populated; run without --keep to time a fresh load.")
        print(bench.meta.get("load"))
        return
    info = machine(bench)
    print(f"Loading {bench.reports:,} reports into {bench.kind} through app.reports.demo.generate ...", flush=True)
    timings = bulk_load(bench, batch=args.batch)
    cells = bench.cell_count()
    hex_rows = bench.hex_count()
    size = bench.size_bytes()
    result = {
        "db": bench.kind,
        "reports": bench.reports,
        "seed": bench.seed,
        "end": bench.end.isoformat(),
        "batch": args.batch,
        "timings_s": {k: round(v, 2) if isinstance(v, float) else v for k, v in timings.__dict__.items()},
        "rows_per_s": round(bench.reports / timings.total_s),
        "insert_rows_per_s": round(bench.reports / timings.inserts_s),
        "report_cells": cells,
        "hex_counts": hex_rows,
        "size_bytes": size,
        "machine": info,
        "loadavg_end": loadavg(),
        "other_processes_end": other_load(),
    }
    save_meta(bench, {"load": timings.__dict__, "cells": cells, "hex_counts": hex_rows, "size": size})
    path = write_results(f"bulk_load_{bench.kind}_{bench.reports}", result)
    print()
    print(f"{bench.kind}, {bench.reports:,} reports")
    print(f"  total            {timings.total_s:8.1f} s  ({result['rows_per_s']:,} rows/s)")
    print(f"  report inserts   {timings.inserts_s:8.1f} s  ({result['insert_rows_per_s']:,} rows/s)")
    print(f"  cell rebuild     {timings.cells_s:8.1f} s  (map cells {timings.map_cells_s:.1f} s, ", end="")
    print(f"hex counts {timings.hex_counts_s:.1f} s)")
    print(f"  commit           {timings.commit_s:8.1f} s")
    print(f"  analyze/optimize {timings.analyze_s:8.1f} s  (not in the total)")
    print(f"  report_cells     {cells:,} rows")
    print(f"  hex_counts       {hex_rows:,} rows")
    print("  size             " + ", ".join(f"{k} {mb(v):,} MB" for k, v in size.items()))
    print(f"  load average     start {info['loadavg_start']}, end {result['loadavg_end']}")
    print(f"Results in {path}")


if __name__ == "__main__":
    main()
