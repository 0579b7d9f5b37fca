"""Accounts: sign-up, verification, sign-in and sessions, throttling, resets, changes,
the second factor, and the privacy self-service pages."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pyotp
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.accounts.models import Token, TokenPurpose, User, UserSession
from app.audit.models import AuditEvent
from app.mail.models import OutboxEmail
from tests.conftest import PASSWORD

GOOD = "a long and unusual passphrase"


def last_link(db_session: Session, to: str, path: str) -> str:
    email = db_session.scalars(
        sa.select(OutboxEmail).where(OutboxEmail.to_address == to).order_by(OutboxEmail.id.desc())
    ).first()
    assert email is not None, f"no email to {to}"
    match = re.search(rf"https?://\S+?({re.escape(path)}[A-Za-z0-9_-]+)", email.text_body)
    assert match is not None, email.text_body
    return match.group(1)


def register(client: FlaskClient, email: str = "new@example.org", password: str = GOOD, **extra: str) -> Any:
    data = {"name": "New Person", "email": email, "password": password, "password_confirm": password, **extra}
    return client.post("/account/create", data=data)


def signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def test_sign_up_sends_a_verification_link_that_works_once(client: FlaskClient, db_session: Session) -> None:
    """Does signing up create an unverified account, and does the emailed link verify it once?"""
    assert "Check your email" in register(client, email="New@Example.org").text
    user = db_session.scalar(sa.select(User).where(User.email == "new@example.org"))
    assert user is not None and not user.is_verified
    assert user.password_hash and user.password_hash.startswith("$argon2id$")
    link = last_link(db_session, "new@example.org", "/account/verify/")
    assert client.get(link).status_code == 302
    assert user.is_verified
    assert client.get(link).status_code == 400


def test_sign_up_with_a_taken_address_reveals_nothing(client: FlaskClient, db_session: Session, make_user: Any) -> None:
    """Does signing up with an existing address look the same, without creating or emailing anything?"""
    make_user(email="taken@example.org")
    before = db_session.scalar(sa.select(sa.func.count()).select_from(OutboxEmail))
    response = register(client, email="taken@example.org")
    assert response.status_code == 200 and "Check your email" in response.text
    assert db_session.scalar(sa.select(sa.func.count()).select_from(OutboxEmail)) == before
    assert db_session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == "taken@example.org")) == 1


def test_weak_passwords_are_refused_with_the_values_kept(client: FlaskClient) -> None:
    """Are short, common and mismatched passwords refused, keeping the name and email?"""
    short = register(client, password="abc123")
    assert short.status_code == 400 and "at least 8 characters" in short.text and "new@example.org" in short.text
    common = register(client, password="password123")
    assert common.status_code == 400 and "too common" in common.text
    mismatch = client.post(
        "/account/create",
        data={"name": "N", "email": "n@example.org", "password": GOOD, "password_confirm": GOOD + "x"},
    )
    assert mismatch.status_code == 400 and "do not match" in mismatch.text
    long_one = register(client, email="long@example.org", password="x" * 300 + " very long")
    assert long_one.status_code == 200  # no truncation limit below 1,024 characters


def test_unverified_account_cannot_sign_in_until_verified(client: FlaskClient, make_user: Any) -> None:
    """Is an unverified account asked to confirm its email instead of being signed in?"""
    user = make_user(verified=False)
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert "Confirm your email address first" in response.text
    assert not signed_in(client)


def test_failed_sign_in_has_one_generic_message_and_is_audited(
    client: FlaskClient, db_session: Session, make_user: Any
) -> None:
    """Do a wrong password and an unknown address get the same message, and is each failure logged?"""
    user = make_user()
    wrong = client.post("/sign-in", data={"email": user.email, "password": "nope nope nope"})
    unknown = client.post("/sign-in", data={"email": "nobody@example.org", "password": "nope nope nope"})
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "The email address or password is not right" in response.text
    events = db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "sign_in_failed")).all()
    assert {e.actor_email for e in events} >= {user.email, "nobody@example.org"}
    assert all(e.ip == "127.0.0.1" for e in events)


def test_sign_in_rotates_the_session_and_ignores_a_planted_one(
    app: Flask, client: FlaskClient, db_session: Session, make_user: Any, login: Callable[[User], None]
) -> None:
    """Is a session identifier set before sign-in replaced, so fixation gets the attacker nothing?"""
    user = make_user()
    with client.session_transaction() as planted:
        planted["sid"] = "attacker-chosen"
        planted["_user_id"] = str(user.id)
    assert not signed_in(client)
    login(user)
    with client.session_transaction() as current:
        assert current["sid"] != "attacker-chosen"
    attacker = app.test_client()
    with attacker.session_transaction() as theirs:
        theirs["sid"] = "attacker-chosen"
        theirs["_user_id"] = str(user.id)
    assert not signed_in(attacker)


def test_sign_out_ends_the_session_on_the_server(
    app: Flask, client: FlaskClient, db_session: Session, make_user: Any, login: Callable[[User], None]
) -> None:
    """After signing out, does a copy of the old session cookie no longer work?"""
    user = make_user()
    login(user)
    with client.session_transaction() as stolen:
        copy = dict(stolen)
    assert client.post("/sign-out").status_code == 302
    assert not signed_in(client)
    replay = app.test_client()
    with replay.session_transaction() as s:
        s.update(copy)
    assert not signed_in(replay)
    row = db_session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
    assert row is not None and row.revoked_at is not None


def test_idle_and_absolute_timeouts(
    client: FlaskClient, db_session: Session, make_user: Any, login: Callable[[User], None]
) -> None:
    """Does a session end after an hour unused, and twelve hours after sign-in whatever?"""
    user = make_user()
    login(user)
    row = db_session.scalar(sa.select(UserSession).where(UserSession.user_id == user.id))
    assert row is not None
    row.last_seen_at = row.last_seen_at - dt.timedelta(minutes=61)
    db_session.flush()
    assert not signed_in(client)
    login(user)
    row = db_session.scalars(sa.select(UserSession).where(UserSession.revoked_at.is_(None))).one()
    row.created_at = row.created_at - dt.timedelta(hours=13)
    db_session.flush()
    assert not signed_in(client)


def test_brute_force_is_throttled_but_the_owner_can_recover(
    app: Flask, client: FlaskClient, db_session: Session, make_user: Any
) -> None:
    """After 10 failures for one account, are more attempts 429, while a reset still works?"""
    user = make_user()
    statuses = [
        client.post("/sign-in", data={"email": user.email, "password": f"guess {n}"}).status_code for n in range(12)
    ]
    assert statuses[:10] == [400] * 10 and statuses[10:] == [429, 429]
    assert client.post("/sign-in", data={"email": user.email, "password": PASSWORD}).status_code == 429
    # Another account from the same address is not locked by this one.
    other = make_user()
    assert client.post("/sign-in", data={"email": other.email, "password": PASSWORD}).status_code == 302
    client.post("/sign-out")
    # The owner can reset the password, and the reset link works.
    assert client.post("/account/password-reset", data={"email": user.email}).status_code == 200
    link = last_link(db_session, user.email, "/account/password-reset/")
    reset = client.post(link, data={"password": GOOD, "password_confirm": GOOD})
    assert reset.status_code == 302


def test_many_accounts_from_one_address_are_throttled(client: FlaskClient) -> None:
    """Are 30 failed sign-ins from one IP address, across accounts, followed by 429s?"""
    statuses = [
        client.post("/sign-in", data={"email": f"guess{n}@example.org", "password": "wrong wrong"}).status_code
        for n in range(31)
    ]
    assert statuses[:30] == [400] * 30 and statuses[30] == 429


def test_reset_link_is_single_use_expires_and_survives_a_weak_password(
    client: FlaskClient, db_session: Session, make_user: Any, login: Callable[[User], None], app: Flask
) -> None:
    """Is a reset link single-use, dead after 2 hours, not spent by a refused password, and ending other sessions?"""
    user = make_user()
    other_device = app.test_client()
    login(user)
    with client.session_transaction() as s:
        cookie = dict(s)
    with other_device.session_transaction() as s:
        s.update(cookie)
    assert signed_in(other_device)
    client.post("/account/password-reset", data={"email": user.email})
    link = last_link(db_session, user.email, "/account/password-reset/")
    weak = client.post(link, data={"password": "123456", "password_confirm": "123456"})
    assert weak.status_code == 400 and "at least 8" in weak.text
    assert client.post(link, data={"password": GOOD, "password_confirm": GOOD}).status_code == 302
    assert not signed_in(other_device)
    again = client.post(link, data={"password": GOOD + "!", "password_confirm": GOOD + "!"})
    assert again.status_code == 400 and "already been used" in again.text
    client.post("/account/password-reset", data={"email": user.email})
    expired = last_link(db_session, user.email, "/account/password-reset/")
    for token in db_session.scalars(sa.select(Token).where(Token.purpose == TokenPurpose.RESET_PASSWORD)):
        token.expires_at = token.created_at + dt.timedelta(hours=2) - dt.timedelta(days=1)
    db_session.flush()
    late = client.post(expired, data={"password": GOOD, "password_confirm": GOOD})
    assert late.status_code == 400 and "expired" in late.text


def test_tokens_are_stored_hashed(client: FlaskClient, db_session: Session, make_user: Any) -> None:
    """Is a reset token stored only as a hash, never as the value in the link?"""
    user = make_user()
    client.post("/account/password-reset", data={"email": user.email})
    raw = last_link(db_session, user.email, "/account/password-reset/").rsplit("/", 1)[1]
    stored = db_session.scalars(sa.select(Token.token_hash)).all()
    assert raw not in stored and all(len(h) == 64 for h in stored)


def test_changing_password_or_email_needs_the_current_password(
    client: FlaskClient, db_session: Session, make_user: Any, login: Callable[[User], None]
) -> None:
    """Are password and email changes refused without the current password, and applied with it?"""
    user = make_user(email="me@example.org")
    login(user)
    bad = client.post("/account/password", data={"current_password": "wrong", "new_password": GOOD})
    assert bad.status_code == 400 and "current password is not right" in bad.text
    assert (
        client.post("/account/password", data={"current_password": PASSWORD, "new_password": GOOD}).status_code == 302
    )
    refused = client.post("/account/email", data={"current_password": PASSWORD, "new_email": "new@example.org"})
    assert refused.status_code == 400  # the password is now GOOD
    assert "new@example.org" in refused.text  # what was typed is kept
    sent = client.post("/account/email", data={"current_password": GOOD, "new_email": "new@example.org"})
    assert sent.status_code == 200 and user.email == "me@example.org"
    link = last_link(db_session, "new@example.org", "/account/email/confirm/")
    assert client.get(link).status_code == 302
    assert user.email == "new@example.org"


def test_admin_must_set_up_a_second_factor_before_anything_else(
    client: FlaskClient, db_session: Session, make_user: Any
) -> None:
    """Is an administrator without TOTP sent to set it up, and let through once it is on?"""
    admin = make_user(admin=True, totp=False)
    assert client.post("/sign-in", data={"email": admin.email, "password": PASSWORD}).location.endswith(
        "/account/two-factor"
    )
    assert client.get("/account").location.endswith("/account/two-factor")
    assert "Set up two-step sign-in" in client.get("/account/two-factor").text
    with client.session_transaction() as s:
        secret = s["totp_setup_secret"]
    wrong = client.post("/account/two-factor", data={"code": "000000"})
    assert wrong.status_code == 400 and "not right" in wrong.text
    assert client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert admin.totp_enabled and signed_in(client)


def test_sign_in_with_totp_needs_a_fresh_code(client: FlaskClient, make_user: Any) -> None:
    """Does a TOTP user need a code after the password, and is a used code refused the second time?"""
    user = make_user(totp=True)
    first = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert first.location.endswith("/sign-in/code")
    assert not signed_in(client)
    assert client.post("/sign-in/code", data={"code": "123456"}).status_code == 400
    code = pyotp.TOTP(user.totp_secret).now()
    assert client.post("/sign-in/code", data={"code": code}).status_code == 302
    assert signed_in(client)
    client.post("/sign-out")
    client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    replay = client.post("/sign-in/code", data={"code": code})
    assert replay.status_code == 400 and not signed_in(client)


def test_download_my_data(
    client: FlaskClient, db_session: Session, make_user: Any, login: Callable[[User], None], make_report: Any
) -> None:
    """Does 'download my data' give a JSON file with the account and its reports?"""
    user = make_user(email="mine@example.org")
    make_report(reporter_email="mine@example.org", title="My pothole")
    login(user)
    response = client.get("/account/data.json")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.data)
    assert data["account"]["email"] == "mine@example.org"
    assert [r["title"] for r in data["reports"]] == ["My pothole"]


def test_deleting_an_account_anonymises_its_reports(
    client: FlaskClient, db_session: Session, make_user: Any, login: Callable[[User], None], make_report: Any
) -> None:
    """Does deleting an account keep its reports without name or email, and end its sessions?"""
    user = make_user(email="leaving@example.org")
    report = make_report(reporter_email="leaving@example.org", reporter_name="Leaving Person", show_name=True)
    login(user)
    page = client.get("/account/delete")
    assert "your reports stay" in page.text
    unticked = client.post("/account/delete", data={"current_password": PASSWORD})
    assert unticked.status_code == 400 and "Tick the box" in unticked.text
    assert client.post("/account/delete", data={"current_password": PASSWORD, "confirm": "yes"}).status_code == 302
    db_session.refresh(report)
    assert (report.reporter_email, report.reporter_name, report.show_name) == ("deleted@deleted.invalid", None, False)
    assert user.deleted_at is not None and user.email.endswith("@deleted.invalid")
    assert not signed_in(client)
    assert client.post("/sign-in", data={"email": "leaving@example.org", "password": PASSWORD}).status_code == 400


def test_session_cookie_flags(
    app: Flask, client: FlaskClient, make_user: Any, login: Callable[[User], None], monkeypatch: Any
) -> None:
    """Is the session cookie HttpOnly and SameSite=Lax, and Secure in production?"""
    login(make_user())
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    from config import Config

    assert Config.from_env().SESSION_COOKIE_SECURE is False
    monkeypatch.setenv("SECRET_KEY", "s" * 64)
    app_config = Config.from_env(ENV="production")
    assert app_config.SESSION_COOKIE_SECURE is True
