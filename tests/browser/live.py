"""A live TellUs server and a headless Chromium for the browser tests and the screenshots.

Plain functions, so that ``tests.browser.screenshots`` can use them without pytest.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import Browser, Page, Playwright
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from app.extensions import db
from app.reports import demo
from app.reports.models import Category, Report
from tests.conftest import make_test_app, prepare_database
from tests.dbutil import create_database, drop_database

os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Keep Chromium from phoning home (updates, QUIC probes, sync): no request may leave the machine.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
DEMO_COUNT = 300
DEMO_SEED = 7
# Fewer than the 300 demo reports, so the whole city shows clusters and a few streets show pins.
MAP_MAX_POINTS = 50


@dataclass
class LiveServer:
    """A TellUs app with demo data, served on 127.0.0.1 from a daemon thread."""

    app: Flask
    url: str
    database_url: str
    server: BaseWSGIServer
    thread: threading.Thread

    @contextmanager
    def config(self, **changes: Any) -> Iterator[None]:
        """Change app settings (read per request, such as TILE_URL) for the duration of the block."""
        saved = {key: self.app.config[key] for key in changes}
        self.app.config.update(changes)
        try:
            yield
        finally:
            self.app.config.update(saved)

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
        with self.app.app_context():
            db.engine.dispose()
        drop_database(self.database_url)


class QuietHandler(WSGIRequestHandler):
    """No line per request on stderr; errors still reach the log."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def demo_report_id(server: LiveServer, *, sensitive: bool, category: str | None = None) -> int:
    """The id of the oldest demo report in a sensitive (or not) category, or in ``category``."""
    with server.app.app_context():
        query = select(Report.id).join(Category).where(Category.sensitive.is_(sensitive), Report.source == "demo")
        if category:
            query = query.where(Category.slug == category)
        found = db.session.scalar(query.order_by(Report.id).limit(1))
    assert found is not None, f"no demo report with sensitive={sensitive} category={category}"
    return int(found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_live_server(db_kind: str, tmp: Path, **overrides: Any) -> LiveServer:
    """Create a fresh "browser" database, load the wards and the demo set, and serve the app.

    CSRF protection is on, as in production: the real forms carry the token. Raises
    RuntimeError (from tests.dbutil) when PostgreSQL cannot be reached.
    """
    url = create_database(db_kind, tmp, "browser")
    try:
        app = make_test_app(url, tmp / "uploads")
        # make_test_app fixes CSRF (off) and TILE_URL (none) and cannot take them as overrides;
        # the app reads its settings per request, so setting them here is the same as configuring them.
        app.config.update(WTF_CSRF_ENABLED=True, MAP_MAX_POINTS=MAP_MAX_POINTS, MAIL_DIR=tmp / "mail", **overrides)
        prepare_database(app)
        with app.app_context():
            for _done in demo.generate(
                db.session,
                count=DEMO_COUNT,
                seed=DEMO_SEED,
                data_dir=app.config["GEO_DATA_DIR"],
                end=dt.datetime.now(dt.UTC),
            ):
                pass
            db.session.commit()
    except BaseException:
        drop_database(url)
        raise
    port = free_port()
    # Links in emails (such as "confirm your report") point at this server.
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="tellus-live-server", daemon=True)
    thread.start()
    return LiveServer(app, f"http://127.0.0.1:{port}", url, server, thread)


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless and quiet. Fails (never skips) when it is not installed."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make system` (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def wait_for_map_reports(page: Page, timeout: float = 15_000) -> str:
    """Wait until the home map has loaded its reports; return the #map-status text."""
    page.wait_for_function(
        """() => {
            const s = document.getElementById("map-status");
            return s && s.innerText.trim() !== "" && !s.innerText.includes("Loading");
        }""",
        timeout=timeout,
    )
    return page.locator("#map-status").inner_text()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page with the WCAG 2.2 A and AA rules; return its violations."""
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS} is missing: run `make assets` (npm ci)")
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: "tag", values: tags}})""",
        AXE_TAGS,
    )
    return list(result["violations"])


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """A readable account of axe violations: rule, impact, help text, and each target."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']} [{v.get('helpUrl', '')}]")
        for node in v["nodes"][:10]:
            target = " ".join(str(t) for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    at {target}: {summary}")
        if len(v["nodes"]) > 10:
            lines.append(f"    ... and {len(v['nodes']) - 10} more")
    return "\n".join(lines)
