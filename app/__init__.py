"""TellUs Coventry: the application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

from config import Config


def create_app(config: Config | None = None, **overrides: Any) -> Flask:
    """Create the Flask app from ``config`` (default: the environment) plus ``overrides``."""
    config = config or Config.from_env(**overrides)
    app = Flask(__name__, instance_path=str(config.UPLOAD_DIR.parent))
    app.config.from_mapping(config.as_flask())
    config.UPLOAD_DIR.mkdir(parents=True, exist_ok=True)

    from app import models  # noqa: F401  (registers every table on the metadata)
    from app.extensions import csrf, db, limiter, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config_dir() / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)

    from app.accounts.auth import init_auth

    init_auth(app)

    from app.templating import init_templating

    init_templating(app)

    from app.accounts.views import bp as accounts_bp
    from app.admin.views import bp as admin_bp
    from app.coordination.jobs import jobs_cli
    from app.coordination.views import bp as coordination_bp
    from app.errors import register_error_handlers
    from app.geography.cli import geo_cli
    from app.hotspots.cli import hotspots_cli
    from app.hotspots.views import bp as hotspots_bp
    from app.mail.cli import mail_cli, worker
    from app.pages.views import bp as pages_bp
    from app.partners.views import bp as partners_bp
    from app.reports.cli import demo_cli, reports_cli
    from app.reports.views import bp as reports_bp

    for blueprint in (pages_bp, reports_bp, accounts_bp, partners_bp, coordination_bp, admin_bp, hotspots_bp):
        app.register_blueprint(blueprint)
    for group in (geo_cli, demo_cli, reports_cli, mail_cli, worker, jobs_cli, hotspots_cli):
        app.cli.add_command(group)
    register_error_handlers(app)
    return app


def config_dir() -> Any:
    from config import BASE_DIR

    return BASE_DIR
