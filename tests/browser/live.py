"""A live TellUs server and a headless Chromium for the browser tests and the screenshots.

Plain functions, so that ``tests.browser.screenshots`` can use them without pytest.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
from flask import Flask
from playwright.sync_api import Browser, Page, Playwright
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from app.accounts.models import User
from app.accounts.passwords import hash_password
from app.accounts.services import request_password_reset
from app.db import utcnow
from app.extensions import db
from app.geography.models import Ward
from app.partners import invitations
from app.partners.demo import load_demo_accounts
from app.partners.models import Membership, Organisation, OrgRole, WardOfficerWard
from app.partners.services import add_member
from app.reports import demo
from app.reports.models import Category, Report, Sector
from app.reports.services import NewReport, publish_report
from app.reports.services import create_report as new_report
from tests.conftest import COUNCIL_HOUSE, PASSWORD, make_test_app, prepare_database
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
            # The demo partner organisations, their staff and ward officers (app/partners/demo.py).
            load_demo_accounts(db.session)
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


# All axe says about a radio that reveals more questions (GOV.UK Frontend's conditional reveal).
_ONLY_ARIA_EXPANDED = re.compile(
    r'^Fix all of the following:\s+ARIA attribute is not allowed: aria-expanded="(true|false)"$'
)


def conditional_reveal_radio(violation: dict[str, Any]) -> bool:
    """Is this axe's known objection to GOV.UK Frontend's conditional reveal, and nothing else:
    ``aria-expanded`` on radios that reveal more questions? The Design System keeps the
    attribute on purpose, because screen readers announce it (alphagov/govuk-frontend#979,
    a documented known issue), so it is not counted as a violation here."""
    return violation["id"] == "aria-allowed-attr" and all(
        'type="radio"' in node["html"] and _ONLY_ARIA_EXPANDED.match((node.get("failureSummary") or "").strip())
        for node in violation["nodes"]
    )


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core on the page with the WCAG 2.2 A and AA rules; return its violations (less
    the conditional reveal's known one, above)."""
    if not AXE_JS.exists():
        raise RuntimeError(f"{AXE_JS} is missing: run `make assets` (npm ci)")
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: "tag", values: tags}})""",
        AXE_TAGS,
    )
    return [v for v in result["violations"] if not conditional_reveal_radio(v)]


# Text (and controls) outside tables that run past the right edge of the window. Data tables
# may scroll sideways (WCAG 1.4.10 exempts them); nothing else may.
OVERFLOW_JS = """() => {
    const width = document.documentElement.clientWidth;
    const found = [];
    const outside = el => !el.closest("table, script, style, .govuk-visually-hidden");
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.textContent.trim() || !outside(node.parentElement)) { continue; }
        range.selectNodeContents(node);
        if ([...range.getClientRects()].some(r => r.width > 0 && r.right > width + 1)) {
            found.push(`${node.parentElement.tagName.toLowerCase()}: ${node.textContent.trim().slice(0, 80)}`);
        }
    }
    for (const el of document.body.querySelectorAll("input, select, textarea, button, img, svg, .govuk-button")) {
        const r = el.getBoundingClientRect();
        if (outside(el) && r.width > 1 && r.right > width + 1) { found.push(`${el.tagName.toLowerCase()}#${el.id}`); }
    }
    return found;
}"""


def overflowing_at(page: Page, width: int = 320) -> list[str]:
    """Resize the window to ``width`` CSS pixels (a 1280px screen zoomed to 400%) and list what
    runs off its right edge, outside tables."""
    page.set_viewport_size({"width": width, "height": 800})
    found: list[str] = page.evaluate(OVERFLOW_JS)
    return found


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


# --- People, organisations, reports and invitations in the live server's database -----------

_serial = itertools.count(1)

# The demo organisation (app/partners/demo.py) that the signed-in coordinator of the tests and
# screenshots runs; it has a demo coordinator and a demo member too.
COORDINATED = "Godiva Homes Housing Association"


@dataclass(frozen=True)
class Person:
    """Someone with an account in the live server's database, and what they sign in with."""

    id: int
    email: str
    name: str
    password: str = PASSWORD
    totp_secret: str | None = None


def unique_email(prefix: str) -> str:
    """An address no other test in this session uses."""
    return f"{prefix}.{next(_serial)}@example.org"


def unique_name(prefix: str) -> str:
    """A name (of an organisation, say) no other test in this session uses."""
    return f"{prefix} {next(_serial)}"


def create_person(
    server: LiveServer,
    *,
    name: str = "Robin Resident",
    email: str | None = None,
    admin: bool = False,
    totp: bool = False,
    verified: bool = True,
    wards: tuple[str, ...] = (),
    memberships: tuple[tuple[int, str], ...] = (),
) -> Person:
    """Create an account directly (for tests not about making one): a verified resident unless
    told otherwise, an administrator, a ward officer (ward codes), or staff of organisations
    (``(organisation id, "member" or "coordinator")``). ``totp=True`` gives a second factor."""
    with server.app.app_context():
        user = User(
            email=email or unique_email(name.split()[0].lower()),
            display_name=name,
            password_hash=hash_password(PASSWORD),
            email_verified_at=utcnow() if verified else None,
            is_admin=admin,
        )
        if totp:
            user.totp_secret = pyotp.random_base32()
            user.totp_enabled_at = utcnow()
        db.session.add(user)
        db.session.flush()
        user.ward_assignments.extend(WardOfficerWard(ward_code=code) for code in wards)
        for org_id, role in memberships:
            organisation = db.session.get(Organisation, org_id)
            assert organisation is not None, org_id
            add_member(db.session, organisation, user, OrgRole(role))
        db.session.commit()
        return Person(user.id, user.email, name, totp_secret=user.totp_secret)


def totp_code(server: LiveServer, person: Person) -> str:
    """A code from ``person``'s authenticator that the server accepts now.

    The server takes each time step once (and one step of drift either way), so a person
    who signed in a moment ago gets the next step's code; if that was used too, this waits.
    """
    assert person.totp_secret, f"{person.email} has no second factor"
    with server.app.app_context():
        last = db.session.scalar(select(User.totp_last_step).where(User.id == person.id))
    totp = pyotp.TOTP(person.totp_secret)
    while True:
        step = int(time.time()) // totp.interval
        for candidate in (step, step + 1):
            if last is None or candidate > last:
                return str(totp.at(candidate * totp.interval))
        time.sleep(1)


def wrong_code(secret: str) -> str:
    """A 6-digit code that is not valid for ``secret`` now (nor a step either side)."""
    totp = pyotp.TOTP(secret)
    now = time.time()
    valid = {totp.at(now + drift) for drift in (-60, -30, 0, 30, 60)}
    return next(code for code in ("000000", "111111", "222222") if code not in valid)


def user_id(server: LiveServer, email: str) -> int:
    with server.app.app_context():
        found = db.session.scalar(select(User.id).where(User.email == email))
    assert found is not None, f"no account for {email}"
    return int(found)


def category_id(server: LiveServer, slug: str) -> int:
    with server.app.app_context():
        found = db.session.scalar(select(Category.id).where(Category.slug == slug))
    assert found is not None, f"no category {slug}"
    return int(found)


def create_report(server: LiveServer, person: Person, title: str, *, publish: bool = True) -> int:
    """A report by ``person`` near the Council House, published (as if confirmed) or waiting
    for the emailed confirmation; returns its id."""
    category = category_id(server, "potholes-pavements")
    with server.app.app_context():
        data = NewReport(
            category_id=category,
            title=title,
            description="Reported by a browser test.",
            point=COUNCIL_HOUSE,
            reporter_email=person.email,
        )
        report = new_report(db.session, data)
        if publish:
            publish_report(db.session, report)
        db.session.commit()
        return int(report.id)


def ward_code(server: LiveServer, name: str) -> str:
    with server.app.app_context():
        found = db.session.scalar(select(Ward.code).where(Ward.name == name))
    assert found is not None, f"no ward called {name}"
    return str(found)


def create_organisation(server: LiveServer, name: str, *, sector: Sector = Sector.VOLUNTARY) -> int:
    """Create an active organisation with no coverage or members directly; returns its id."""
    with server.app.app_context():
        organisation = Organisation(
            name=name, sector=sector, contact_email=unique_email("contact"), working_hours="Weekdays, 9am to 5pm"
        )
        db.session.add(organisation)
        db.session.commit()
        return int(organisation.id)


def organisation_id(server: LiveServer, name: str) -> int:
    with server.app.app_context():
        found = db.session.scalar(select(Organisation.id).where(Organisation.name == name))
    assert found is not None, f"no organisation called {name}"
    return int(found)


def membership_id(server: LiveServer, org_id: int, email: str) -> int:
    with server.app.app_context():
        found = db.session.scalar(
            select(Membership.id).join(User).where(Membership.organisation_id == org_id, User.email == email)
        )
    assert found is not None, f"{email} is not in organisation {org_id}"
    return int(found)


def invitation_path(server: LiveServer, org_id: int, email: str, *, by: Person, role: str = "member") -> str:
    """Invite ``email`` to the organisation (as ``by``, a coordinator or administrator) without
    the UI; returns the path of the link in the invitation email."""
    paths: list[str] = []

    def link(raw: str) -> str:
        paths.append(f"/invitations/{raw}")
        return server.url + paths[-1]

    with server.app.app_context():
        organisation = db.session.get(Organisation, org_id)
        inviter = db.session.get(User, by.id)
        assert organisation is not None and inviter is not None
        invitations.invite(db.session, organisation, email=email, role=role, by=inviter, accept_link=link)
        db.session.commit()
    return paths[0]


def reset_path(server: LiveServer, person: Person) -> str:
    """Ask for a password reset for ``person`` without the UI; returns the path of the emailed link."""
    paths: list[str] = []

    def link(raw: str) -> str:
        paths.append(f"/account/password-reset/{raw}")
        return server.url + paths[-1]

    with server.app.app_context():
        request_password_reset(db.session, person.email, reset_link=link)
        db.session.commit()
    return paths[0]
