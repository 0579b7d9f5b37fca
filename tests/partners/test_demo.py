"""`flask demo accounts` and `flask demo code`: demo organisations and sign-ins, in demo mode only."""

from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.passwords import verify_password
from app.partners.demo import DEMO_PASSWORD, address
from app.partners.models import Organisation, OrgRole
from app.permissions import Role, roles
from app.reports.models import Sector


@pytest.fixture
def demo_off(app: Flask) -> Iterator[None]:
    app.config["DEMO_MODE"] = False
    try:
        yield
    finally:
        app.config["DEMO_MODE"] = True


def test_demo_accounts_cover_every_role_and_sector(app: Flask, db_session: Session) -> None:
    """Does `flask demo accounts` make labelled organisations in every sector, every role, and print the sign-ins?"""
    result = app.test_cli_runner().invoke(args=["demo", "accounts"])
    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output and "demo code EMAIL" in result.output
    organisations = list(db_session.scalars(sa.select(Organisation)))
    assert organisations and all(o.is_demo and o.label.endswith("(demo)") for o in organisations)
    assert {o.sector for o in organisations} == set(Sector)
    assert all(o.wards and o.categories and o.coordinators for o in organisations)
    people = list(db_session.scalars(sa.select(User)))
    assert all(p.is_demo and p.is_verified for p in people)
    assert all(p.email in result.output for p in people)
    held = set().union(*(roles(p) for p in people))
    assert {Role.MEMBER, Role.COORDINATOR, Role.WARD_OFFICER, Role.ADMIN} <= held
    assert sum(1 for p in people if p.is_ward_officer) == 2
    in_two = [p for p in people if len(p.memberships) == 2]
    assert len(in_two) == 1 and {m.role for m in in_two[0].memberships} == {OrgRole.MEMBER, OrgRole.COORDINATOR}
    assert all(p.totp_enabled for p in people if p.is_admin or p.is_ward_officer)
    admin = next(p for p in people if p.is_admin)
    assert verify_password(admin.password_hash, DEMO_PASSWORD)


def test_demo_accounts_are_added_once(app: Flask, db_session: Session) -> None:
    """Does running the command again add nothing?"""
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "accounts"])
    counts = [db_session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (User, Organisation)]
    again = runner.invoke(args=["demo", "accounts"])
    assert again.exit_code == 0 and "Added" not in again.output
    assert [db_session.scalar(sa.select(sa.func.count()).select_from(m)) for m in (User, Organisation)] == counts


def test_demo_code_prints_the_current_code(app: Flask, db_session: Session) -> None:
    """Does `flask demo code` print the code the administrator's authenticator would show, and refuse others?"""
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "accounts"])
    admin = db_session.scalars(sa.select(User).where(User.is_admin)).one()
    result = runner.invoke(args=["demo", "code", admin.email.upper()])
    assert result.exit_code == 0
    assert admin.totp_secret is not None and pyotp.TOTP(admin.totp_secret).verify(result.output.strip(), valid_window=1)
    member = runner.invoke(args=["demo", "code", address("aisha.begum")])
    assert member.exit_code != 0 and "password alone" in member.output
    stranger = runner.invoke(args=["demo", "code", "someone@example.org"])
    assert stranger.exit_code != 0 and "not a demo sign-in" in stranger.output


def test_demo_sign_ins_exist_only_in_demo_mode(app: Flask, db_session: Session, demo_off: None) -> None:
    """Outside demo mode, do `demo accounts` and `demo code` create and print nothing?"""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "accounts"])
    assert result.exit_code == 0 and "Not in demo mode" in result.output
    assert db_session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    assert runner.invoke(args=["demo", "code", address("helen.carter")]).exit_code != 0


def test_a_demo_coordinator_signs_in_and_sees_their_organisation(app: Flask, db_session: Session) -> None:
    """Can the demo person in two organisations sign in with the shared password and see both?"""
    app.test_cli_runner().invoke(args=["demo", "accounts"])
    client = app.test_client()
    response = client.post("/sign-in", data={"email": address("sam.taylor"), "password": DEMO_PASSWORD})
    assert response.status_code == 302
    page = client.get("/organisations").text
    assert "Coventry Community Food Network (demo)" in page and "Housing and Homelessness (demo)" in page
