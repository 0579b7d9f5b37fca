"""The inbox benchmark's cases: one organisation covering every ward and category, so that every
published report is routed to it, with leads, lifecycle times and deadlines, written in bulk SQL.

The reports come from the bulk path (``bench.common.ensure_populated``); this adds, in a few
``INSERT ... SELECT`` and ``UPDATE`` statements rather than through the ORM:

- a ``case_routes`` row for every published report (1,000,000 at 1M);
- a lead ``case_claims`` row for every report past new (about 0.87 of them);
- ``acknowledge_due_at`` (published + 2 days), ``acknowledged_at`` (0 to 50 hours after
  publication, from a hash of the id) for reports past new, ``resolve_due_at`` (published +
  28 days) while led, and ``resolved_at`` (0 to 40 days after publication, and before the end
  of the data) for resolved reports and half the closed ones, ``closed_at`` for closed ones.

The deadlines are calendar approximations of the default targets (2 and 20 working days): the
benchmark times queries, and the page's figures only need to look plausible. The organisation,
its coverage and one coordinator (who signs in for the measured requests) go through the ORM.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.passwords import hash_password
from app.db import utcnow
from app.extensions import db
from app.geography.models import Ward
from app.partners.models import Membership, Organisation, OrganisationCategory, OrganisationWard, OrgRole
from app.reports.models import Category, Sector
from bench.common import BenchDB, save_meta

ORG_NAME = "Bench partner covering everything"
COORDINATOR_EMAIL = "bench.coordinator@example.org"
PASSWORD = "bench password not secret"  # noqa: S105  (a throwaway account in a benchmark database)

# Minutes after publication, from a hash of the report id: 0..2999 (about 50 hours) to
# acknowledge, 0..57599 (40 days) to resolve.
_PG_LIFECYCLE = """
UPDATE reports SET
  acknowledge_due_at = published_at + interval '2 days',
  acknowledged_at = CASE WHEN status <> 'new'
    THEN published_at + ((id::bigint * 7919) % 3000) * interval '1 minute' END,
  resolve_due_at = CASE WHEN status <> 'new' THEN published_at + interval '28 days' END,
  resolved_at = CASE WHEN status = 'resolved' OR (status = 'closed' AND id % 2 = 0)
    THEN LEAST(published_at + ((id::bigint * 104729) % 57600) * interval '1 minute',
               published_at + (CAST(:end AS timestamptz) - published_at) * 0.9) END,
  closed_at = CASE WHEN status = 'closed'
    THEN LEAST(published_at + ((id::bigint * 104729) % 57600 + 60) * interval '1 minute',
               published_at + (CAST(:end AS timestamptz) - published_at) * 0.95) END
WHERE published_at IS NOT NULL
"""

# SQLite keeps UTC timestamps as text; julianday arithmetic, written back in the same format.
_SQLITE_LIFECYCLE = """
UPDATE reports SET
  acknowledge_due_at = strftime('%Y-%m-%d %H:%M:%S', julianday(published_at) + 2),
  acknowledged_at = CASE WHEN status <> 'new'
    THEN strftime('%Y-%m-%d %H:%M:%S', julianday(published_at) + ((id * 7919) % 3000) / 1440.0) END,
  resolve_due_at = CASE WHEN status <> 'new' THEN strftime('%Y-%m-%d %H:%M:%S', julianday(published_at) + 28) END,
  resolved_at = CASE WHEN status = 'resolved' OR (status = 'closed' AND id % 2 = 0)
    THEN strftime('%Y-%m-%d %H:%M:%S', min(julianday(published_at) + ((id * 104729) % 57600) / 1440.0,
               julianday(published_at) + (julianday(:end) - julianday(published_at)) * 0.9)) END,
  closed_at = CASE WHEN status = 'closed'
    THEN strftime('%Y-%m-%d %H:%M:%S', min(julianday(published_at) + ((id * 104729) % 57600 + 60) / 1440.0,
               julianday(published_at) + (julianday(:end) - julianday(published_at)) * 0.95)) END
WHERE published_at IS NOT NULL
"""

_ROUTES = """
INSERT INTO case_routes (report_id, organisation_id, routed_at, reason, decline_reason, acknowledge_due_at, due_at)
SELECT id, :org, published_at, '', '', acknowledge_due_at,
  CASE WHEN status = 'new' THEN acknowledge_due_at
       WHEN status IN ('acknowledged', 'in_progress') THEN resolve_due_at END
FROM reports WHERE published_at IS NOT NULL
"""

_LEADS = """
INSERT INTO case_claims (report_id, organisation_id, role, claimed_at, claimed_by_id)
SELECT id, :org, 'lead', acknowledged_at, :user FROM reports WHERE published_at IS NOT NULL AND status <> 'new'
"""


def ensure_cases(bench: BenchDB) -> dict[str, Any]:
    """Add the organisation, its coordinator and the cases unless the database has them
    (recorded in the meta file). Returns {"organisation_id", "user_id", "routes", "leads",
    "seconds"}."""
    found = bench.meta.get("inbox_cases")
    if found:
        return dict(found)
    started = time.perf_counter()
    with bench.app.app_context():
        session = db.session
        org = Organisation(
            name=ORG_NAME,
            sector=Sector.COUNCIL,
            contact_email="bench.partner@example.org",
            working_hours="Monday to Friday, 9am to 5pm",
        )
        session.add(org)
        session.flush()
        for code in session.scalars(sa.select(Ward.code).distinct()):
            session.add(OrganisationWard(organisation_id=org.id, ward_code=code))
        for category_id in session.scalars(sa.select(Category.id)):
            session.add(OrganisationCategory(organisation_id=org.id, category_id=category_id))
        user = User(
            email=COORDINATOR_EMAIL,
            display_name="Bench Coordinator",
            password_hash=hash_password(PASSWORD),
            email_verified_at=utcnow(),
        )
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, organisation_id=org.id, role=OrgRole.COORDINATOR))
        session.flush()
        org_id, user_id = org.id, user.id
        lifecycle = _PG_LIFECYCLE if bench.kind == "postgis" else _SQLITE_LIFECYCLE
        end = bench.end.isoformat() if bench.kind == "postgis" else bench.end.strftime("%Y-%m-%d %H:%M:%S")
        conn = session.connection()
        print("  lifecycle times and deadlines ...", flush=True)
        conn.execute(sa.text(lifecycle), {"end": end})
        print("  routes ...", flush=True)
        routes = conn.execute(sa.text(_ROUTES), {"org": org_id}).rowcount
        print("  leads ...", flush=True)
        leads = conn.execute(sa.text(_LEADS), {"org": org_id, "user": user_id}).rowcount
        session.commit()
        session.close()
    with bench.engine.connect() as conn:
        if bench.kind == "postgis":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM (ANALYZE)")
    result = {
        "organisation_id": org_id,
        "user_id": user_id,
        "routes": routes,
        "leads": leads,
        "seconds": round(time.perf_counter() - started, 1),
    }
    save_meta(bench, {"inbox_cases": result})
    return result
