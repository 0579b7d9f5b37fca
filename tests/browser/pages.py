"""Every kind of page the public sees, and how to open each one in the browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from app.partners.demo import address as demo_address
from tests.browser.live import (
    COORDINATED,
    LiveServer,
    Person,
    category_id,
    create_person,
    create_report,
    demo_report_id,
    invitation_path,
    membership_id,
    organisation_id,
    reset_path,
    unique_email,
    user_id,
    wait_for_map_reports,
)


@dataclass(frozen=True)
class PublicPage:
    name: str
    open: Callable[[Page, LiveServer], None]


def _visit(path: str, status: int = 200) -> Callable[[Page, LiveServer], None]:
    def visit(page: Page, server: LiveServer) -> None:
        response = page.goto(path)
        assert response is not None and response.status == status, f"{path}: {response and response.status}"

    return visit


def _home(page: Page, server: LiveServer) -> None:
    _visit("/")(page, server)
    wait_for_map_reports(page)


def _details_with_errors(page: Page, server: LiveServer) -> None:
    _visit("/report/details?lat=52.4075&lon=-1.5084")(page, server)
    page.locator("#title").fill("Broken glass on the pavement")
    page.get_by_role("button", name="Send report").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()


def _report(*, sensitive: bool) -> Callable[[Page, LiveServer], None]:
    def visit(page: Page, server: LiveServer) -> None:
        category = "anti-social-behaviour" if sensitive else None
        _visit(f"/reports/{demo_report_id(server, sensitive=sensitive, category=category)}")(page, server)
        if sensitive:
            expect(page.locator(".govuk-inset-text")).to_contain_text("This is a sensitive category")

    return visit


def _bad_filter(page: Page, server: LiveServer) -> None:
    _visit("/reports?category=fly-tipping&from=2025-02-30", status=400)(page, server)
    expect(page.locator(".govuk-error-summary")).to_be_visible()


PUBLIC_PAGES = [
    PublicPage("home", _home),
    PublicPage("report-start", _visit("/report")),
    PublicPage("report-details", _visit("/report/details?lat=52.4075&lon=-1.5084")),
    PublicPage("report-details-errors", _details_with_errors),
    PublicPage("list", _visit("/reports")),
    PublicPage("list-page-2", _visit("/reports?page=2")),
    PublicPage("list-bad-filter", _bad_filter),
    PublicPage("report", _report(sensitive=False)),
    PublicPage("report-sensitive", _report(sensitive=True)),
    PublicPage("about-data", _visit("/about/data")),
    PublicPage("accessibility", _visit("/accessibility")),
    PublicPage("not-found", _visit("/no-such-page", status=404)),
]


# --- Pages for accounts, partner organisations and administration ----------------------------

# A new account's password in the forms (the people made in the database use PASSWORD).
NEW_PASSWORD = "lantern orchard pebble quartz"

Where = str | Callable[[LiveServer], str]


class Opener(Protocol):
    """Opens a page in the state to check, for ``person`` (None when nobody is signed in)."""

    def __call__(self, page: Page, server: LiveServer, person: Person | None = None) -> None: ...


@dataclass(frozen=True)
class AccountPage:
    """A page of accounts, organisations or administration, and who looks at it: None for
    nobody signed in, or the name of the session fixture (in conftest.py) of the person
    signed in: resident, coordinator or admin. ``open(page, server, person)``."""

    name: str
    who: str | None
    open: Opener


def _at(path: Where, heading: str, *, status: int = 200) -> Opener:
    """Open ``path`` (or ``path(server)``): it must answer ``status`` without redirecting, with
    ``heading`` in its h1."""

    def visit(page: Page, server: LiveServer, person: Person | None = None) -> None:
        target = path(server) if callable(path) else path
        response = page.goto(target)
        assert response is not None and response.status == status, f"{target}: {response and response.status}"
        assert urlsplit(page.url).path == urlsplit(target).path, f"{target} went to {page.url}"
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)

    return visit


def _org(name: str = COORDINATED) -> Callable[[LiveServer], int]:
    return lambda server: organisation_id(server, name)


def shows_errors(page: Page, *messages: str) -> None:
    """The error summary has the focus and lists each of ``messages``; each of its links leads
    to an element on the page, and the page title starts "Error: "."""
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: "))
    for message in messages:
        expect(summary.get_by_role("link", name=message)).to_be_visible()
    hrefs = summary.get_by_role("link").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs, "the error summary has no links"
    for href in hrefs:
        assert href.startswith("#") and page.locator(href).count() == 1, f"{href} leads nowhere"


def _sign_in_errors(page: Page, server: LiveServer, person: Person | None = None) -> None:
    _at("/sign-in", "Sign in")(page, server)
    page.get_by_label("Email address").fill("nobody@example.org")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    shows_errors(page, "The email address or password is not right")


def _sign_in_code(page: Page, server: LiveServer, person: Person | None = None) -> None:
    twostep = create_person(server, name="Kim Twostep", totp=True)
    _at("/sign-in", "Sign in")(page, server)
    page.get_by_label("Email address").fill(twostep.email)
    page.get_by_label("Password", exact=True).fill(twostep.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Enter the code from your app", level=1)).to_be_visible()


def _fill_account_form(page: Page, *, name: str, email: str, password: str) -> None:
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Create a password").fill(password)
    page.get_by_label("Type the password again").fill(password)
    page.get_by_role("button", name="Create account").click()


def _create_account_errors(page: Page, server: LiveServer, person: Person | None = None) -> None:
    _at("/account/create", "Create an account")(page, server)
    _fill_account_form(page, name="", email="jo@", password="short")
    shows_errors(page, "Enter your name", "Enter an email address in the correct format", "at least 8 characters")


def _check_email_after_sign_up(page: Page, server: LiveServer, person: Person | None = None) -> None:
    _at("/account/create", "Create an account")(page, server)
    long_address = unique_email("jo.alexandra.featherstonehaugh.montgomery")  # must wrap on a phone
    _fill_account_form(page, name="Jo Newcomer", email=long_address, password=NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Check your email", level=1)).to_be_visible()


def _reset_requested(page: Page, server: LiveServer, person: Person | None = None) -> None:
    _at("/account/password-reset", "Reset your password")(page, server)
    page.get_by_label("Email address").fill(unique_email("forgetful"))
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email", level=1)).to_be_visible()


def _reset_form(page: Page, server: LiveServer, person: Person | None = None) -> None:
    _at(reset_path(server, create_person(server, name="Lee Forgetful")), "Choose a new password")(page, server)


def _invitation(*, to: str, heading: str, status: int = 200) -> Opener:
    """Open an invitation to join a demo organisation, sent ``to`` "new" (an address with no
    account), "existing" (someone else's account) or "me" (the person signed in)."""

    def visit(page: Page, server: LiveServer, person: Person | None = None) -> None:
        if to == "me":
            assert person is not None
            email = person.email
        elif to == "existing":
            email = create_person(server, name="Pat Existing").email
        else:
            email = unique_email("invitee")
        inviter = create_person(server, name="Ines Inviter", admin=True, totp=True)
        path = invitation_path(server, organisation_id(server, "Friends of Coventry Parks"), email, by=inviter)
        _at(path, heading, status=status)(page, server)

    return visit


def _too_many_attempts(page: Page, server: LiveServer, person: Person | None = None) -> None:
    """Ten failed sign-ins for one account in ten minutes; the eleventh is paused."""
    _at("/sign-in", "Sign in")(page, server)
    token = page.locator("input[name=csrf_token]").first.input_value()
    email = unique_email("attacked")
    for _ in range(10):
        form: dict[str, str | float | bool] = {"csrf_token": token, "email": email, "password": "guess guess guess"}
        assert page.request.post("/sign-in", form=form).status == 400
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill("one more guess")
    with page.expect_response(lambda r: r.url.endswith("/sign-in") and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 429
    expect(page.get_by_role("heading", name="Too many attempts", level=1)).to_be_visible()


def _report_sent(page: Page, server: LiveServer, person: Person | None = None) -> None:
    _at("/report/details?lat=52.4075&lon=-1.5084", "Tell us about the problem")(page, server)
    page.get_by_role("radio", name="Graffiti", exact=True).check()
    page.locator("#title").fill("Tags on the bus shelter")
    page.locator("#description").fill("New tags on the glass.")
    page.locator("#email").fill(unique_email("reporter"))
    page.get_by_role("button", name="Send report").click()
    expect(page.locator(".govuk-panel--confirmation")).to_contain_text("Nearly done: check your email")


def _invite_errors(page: Page, server: LiveServer, person: Person | None = None) -> None:
    _at(lambda s: f"/organisations/{_org()(s)}/invite", "Invite someone")(page, server)
    page.get_by_label("Their email address").fill("not an address")
    page.get_by_role("button", name="Send invitation").click()
    shows_errors(page, "Enter an email address in the correct format")
    expect(page.get_by_label("Their email address")).to_have_value("not an address")


def _organisation_errors(page: Page, server: LiveServer, person: Person | None = None) -> None:
    _at("/admin/organisations/new", "Add an organisation")(page, server)
    page.get_by_label("Working hours").fill("")
    page.get_by_role("button", name="Add organisation").click()
    shows_errors(page, "Enter the organisation's name", "Select the organisation's sector")


def _my_reports(page: Page, server: LiveServer, person: Person | None = None) -> None:
    """My reports with one published report and one waiting for its emailed confirmation."""
    assert person is not None
    create_report(server, person, "Pothole outside the library")
    create_report(server, person, "Broken paving by the bus stop", publish=False)
    _at("/account/reports", "My reports")(page, server)
    expect(page.get_by_role("row", name=re.compile("Broken paving by the bus stop"))).to_contain_text(
        "Waiting for you to confirm"
    )


def _audit_bad_date(page: Page, server: LiveServer, person: Person | None = None) -> None:
    _at("/admin/audit?from=2026-02-30", "Audit log", status=400)(page, server)
    shows_errors(page, "From must be a real date")


def _member(server: LiveServer) -> str:
    org = _org()(server)
    return f"/organisations/{org}/members/{membership_id(server, org, demo_address('lucy.brennan'))}"


ACCOUNT_PAGES = [
    # Nobody signed in.
    AccountPage("sign-in", None, _at("/sign-in", "Sign in")),
    AccountPage("sign-in-errors", None, _sign_in_errors),
    AccountPage("sign-in-code", None, _sign_in_code),
    AccountPage("create-account", None, _at("/account/create", "Create an account")),
    AccountPage("create-account-errors", None, _create_account_errors),
    AccountPage("check-email", None, _check_email_after_sign_up),
    AccountPage("link-problem", None, _at("/account/verify/not-a-real-token", "problem with this link", status=400)),
    AccountPage("password-reset-request", None, _at("/account/password-reset", "Reset your password")),
    AccountPage("password-reset-sent", None, _reset_requested),
    AccountPage("password-reset-form", None, _reset_form),
    AccountPage("invitation-new-account", None, _invitation(to="new", heading="Create your account to accept")),
    AccountPage("invitation-sign-in", None, _invitation(to="existing", heading="Sign in to accept")),
    AccountPage("invitation-problem", None, _at("/invitations/not-a-real-token", "problem with this", status=400)),
    AccountPage("too-many-attempts", None, _too_many_attempts),
    AccountPage("report-check-email", None, _report_sent),
    # A resident.
    AccountPage("account", "resident", _at("/account", "Your account")),
    AccountPage("change-password", "resident", _at("/account/password", "Change your password")),
    AccountPage("change-email", "resident", _at("/account/email", "Change your email address")),
    AccountPage("two-factor-set-up", "resident", _at("/account/two-factor", "Set up two-step sign-in")),
    AccountPage("my-reports", "resident", _my_reports),
    AccountPage("delete-account", "resident", _at("/account/delete", "Delete your account")),
    AccountPage("no-organisations", "resident", _at("/organisations", "Your organisations")),
    AccountPage("invitation-accept", "resident", _invitation(to="me", heading="Accept your invitation")),
    AccountPage("invitation-wrong-account", "resident", _invitation(to="new", heading="for another", status=403)),
    # A coordinator of a demo organisation.
    AccountPage("account-coordinator", "coordinator", _at("/account", "Your account")),
    AccountPage("organisations", "coordinator", _at("/organisations", "Your organisations")),
    AccountPage("organisation", "coordinator", _at(lambda s: f"/organisations/{_org()(s)}", COORDINATED)),
    AccountPage("invite", "coordinator", _at(lambda s: f"/organisations/{_org()(s)}/invite", "Invite someone")),
    AccountPage("invite-errors", "coordinator", _invite_errors),
    AccountPage("coverage", "coordinator", _at(lambda s: f"/organisations/{_org()(s)}/coverage", "Coverage")),
    AccountPage(
        "contact-details", "coordinator", _at(lambda s: f"/organisations/{_org()(s)}/details", "Contact details")
    ),
    AccountPage("change-role", "coordinator", _at(lambda s: _member(s) + "/role", "role")),
    AccountPage("remove-member", "coordinator", _at(lambda s: _member(s) + "/remove", "Remove")),
    # A council administrator.
    AccountPage("account-admin", "admin", _at("/account", "Your account")),
    AccountPage("admin", "admin", _at("/admin", "Administration")),
    AccountPage("all-organisations", "admin", _at("/organisations", "Organisations")),
    AccountPage("organisation-as-admin", "admin", _at(lambda s: f"/organisations/{_org()(s)}", COORDINATED)),
    AccountPage("admin-organisations", "admin", _at("/admin/organisations", "Organisations")),
    AccountPage("admin-organisation-new", "admin", _at("/admin/organisations/new", "Add an organisation")),
    AccountPage("admin-organisation-errors", "admin", _organisation_errors),
    AccountPage("admin-organisation-edit", "admin", _at(lambda s: f"/admin/organisations/{_org()(s)}/edit", "Change")),
    AccountPage(
        "admin-invite-coordinator",
        "admin",
        _at(lambda s: f"/admin/organisations/{_org()(s)}/invite-coordinator", "Invite a coordinator"),
    ),
    AccountPage("admin-categories", "admin", _at("/admin/categories", "Categories")),
    AccountPage("admin-category-new", "admin", _at("/admin/categories/new", "Add a category")),
    AccountPage(
        "admin-category-edit",
        "admin",
        _at(lambda s: f"/admin/categories/{category_id(s, 'fly-tipping')}/edit", "Change Fly-tipping"),
    ),
    AccountPage("admin-ward-officers", "admin", _at("/admin/ward-officers", "Ward officers")),
    AccountPage("admin-invite-ward-officer", "admin", _at("/admin/ward-officers/invite", "Invite a ward officer")),
    AccountPage(
        "admin-ward-officer-wards",
        "admin",
        _at(lambda s: f"/admin/ward-officers/{user_id(s, demo_address('daniel.okafor'))}/wards", "Their wards"),
    ),
    AccountPage("admin-audit", "admin", _at("/admin/audit", "Audit log")),
    AccountPage("admin-audit-bad-date", "admin", _audit_bad_date),
    AccountPage("admin-outbox", "admin", _at("/admin/outbox", "Emails")),
]
