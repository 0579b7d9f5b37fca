"""``flask geo ...``: load the reference geography."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.extensions import db
from app.geography.services import load_reference_data

geo_cli = AppGroup("geo", help="Reference geography.")


@geo_cli.command("load")
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), default=None)
def load(data_dir: Path | None) -> None:
    """Load wards, the city boundary, postcodes and ward IMD 2025 (safe to run again)."""
    data_dir = data_dir or current_app.config["GEO_DATA_DIR"]
    result = load_reference_data(db.session, data_dir)
    db.session.commit()
    click.echo(
        f"Loaded {result.wards} wards, {result.boundaries} boundary, {result.postcodes} postcodes, "
        f"IMD 2025 for {result.deprivation_wards} wards from {result.lsoas} LSOAs"
    )
