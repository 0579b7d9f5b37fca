"""Accounts in a real browser: signing up with the emailed link, signing in and out, and the
second factor (entering a code, and the set-up an administrator cannot skip)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.journeys import emailed_link, sign_in, sign_out
from tests.browser.live import (
    COORDINATED,
    LiveServer,
    Person,
    create_organisation,
    create_person,
    organisation_id,
    unique_email,
    unique_name,
    ward_code,
    wrong_code,
)
from tests.browser.pages import NEW_PASSWORD, shows_errors

pytestmark = pytest.mark.browser


def account_row(page: Page, key: str) -> str:
    """The value of the row ``key`` in the "Your account" summary list."""
    row = page.locator(".govuk-summary-list__row").filter(has=page.locator("dt", has_text=key))
    return row.locator(".govuk-summary-list__value").inner_text().strip()


def test_sign_up_verify_sign_in_and_sign_out(page: Page, live_server: LiveServer) -> None:
    """Can a resident create an account, confirm it with the emailed link, sign in, see their
    account, and sign out so that the account page needs a sign-in again?"""
    email = unique_email("newcomer")
    page.goto("/")
    page.get_by_role("banner").get_by_role("link", name="Sign in").click()
    page.get_by_role("link", name="Create one").click()
    expect(page.get_by_role("heading", name="Create an account", level=1)).to_be_visible()
    page.get_by_label("Your name").fill("Jordan Newcomer")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Create a password").fill(NEW_PASSWORD)
    page.get_by_label("Type the password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email", level=1)).to_be_visible()
    expect(page.get_by_text(f"We have sent a link to {email}")).to_be_visible()

    # Before the link is opened, signing in asks for it instead.
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Confirm your email address first")
    expect(page.get_by_role("banner").get_by_role("link", name="Your account")).to_have_count(0)

    link = emailed_link(live_server, email, "verify_email", "/account/verify/")
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your email address is confirmed")

    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()
    assert account_row(page, "Name") == "Jordan Newcomer"
    assert account_row(page, "Email address") == email
    assert account_row(page, "Two-step sign-in") == "Off"

    sign_out(page)
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Faccount$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Sign in to see that page.")

    assert page.goto(link).status == 400  # type: ignore[union-attr]
    expect(page.get_by_role("heading", name="There is a problem with this link", level=1)).to_be_visible()


def test_sign_in_with_a_code_from_the_app(page: Page, live_server: LiveServer, axe: Callable[[Page], None]) -> None:
    """Does someone with two-step sign-in need a current code after their password, with a
    wrong code shown in the error summary, and are they signed in once the code is right?"""
    person = create_person(live_server, name="Kim Twostep", totp=True)
    assert person.totp_secret
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/sign-in/code$"))
    expect(page.get_by_role("banner").get_by_role("link", name="Your account")).to_have_count(0)

    # Phones show a number pad, and offer the code from a text message or the app.
    expect(page.locator("#code")).to_have_attribute("inputmode", "numeric")
    expect(page.locator("#code")).to_have_attribute("autocomplete", "one-time-code")
    page.get_by_label("6-digit code").fill(wrong_code(person.totp_secret))
    page.get_by_role("button", name="Continue").click()
    shows_errors(page, "That code is not right")
    error = page.locator(".govuk-error-summary").get_by_role("link", name=re.compile("That code is not right"))
    expect(error).to_have_attribute("href", "#code")
    expect(page.locator("#code-error")).to_contain_text("That code is not right")
    axe(page)

    error.click()
    expect(page.locator("#code")).to_be_focused()
    page.keyboard.type(pyotp.TOTP(person.totp_secret).now())
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()
    assert account_row(page, "Two-step sign-in") == "On"


def test_administrator_must_set_up_a_code_before_reaching_administration(
    page: Page, live_server: LiveServer, axe: Callable[[Page], None]
) -> None:
    """Is an administrator without a second factor kept on the set-up page, whatever they open,
    until they enter a code for the key shown there; and can they then reach /admin, and sign
    in again later with that key?"""
    person = create_person(live_server, name="Ada Administrator", admin=True)
    sign_in(page, live_server, person)
    expect(page).to_have_url(re.compile(r"/account/two-factor$"))
    expect(page.locator(".govuk-inset-text")).to_contain_text("Your role needs two-step sign-in")
    for elsewhere in ("/admin", "/account", "/organisations"):
        page.goto(elsewhere)
        expect(page).to_have_url(re.compile(r"/account/two-factor$"))
    axe(page)

    secret = re.sub(r"\s", "", page.locator(".tellus-secret").inner_text())
    page.get_by_label("6-digit code").fill(wrong_code(secret))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    shows_errors(page)
    axe(page)
    assert re.sub(r"\s", "", page.locator(".tellus-secret").inner_text()) == secret, "the key changed after an error"

    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Two-step sign-in is on")
    page.get_by_role("banner").get_by_role("link", name="Administration").click()
    expect(page.get_by_role("heading", name="Administration", level=1)).to_be_visible()

    sign_out(page)
    sign_in(page, live_server, dataclasses.replace(person, totp_secret=secret), path="/sign-in?next=/admin")
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(page.get_by_role("heading", name="Administration", level=1)).to_be_visible()


def test_create_account_lists_every_problem_at_once(page: Page) -> None:
    """With no name, a broken address and a short password, does the error summary list all
    three problems together (not one per attempt), keeping what was typed?"""
    page.goto("/account/create")
    page.get_by_label("Email address").fill("jordan@")
    page.get_by_label("Create a password").fill("short")
    page.get_by_label("Type the password again").fill("short")
    page.get_by_role("button", name="Create account").click()
    shows_errors(page, "Enter your name", "Enter an email address in the correct format", "at least 8 characters")
    expect(page.locator(".govuk-error-summary").get_by_role("link")).to_have_count(3)
    expect(page.get_by_label("Email address")).to_have_value("jordan@")
    expect(page.locator("#name-error")).to_contain_text("Enter your name")
    expect(page.locator("#email-error")).to_contain_text("correct format")
    expect(page.locator("#password-error")).to_contain_text("at least 8 characters")


def test_your_account_names_organisations_and_wards(live_server: LiveServer, page_as: Callable[[Person], Page]) -> None:
    """Does "Your account" name each organisation as the rest of the site does ("(demo)" after
    demo ones, a name with < and & shown exactly as typed) and a ward officer's wards by name?"""
    odd = unique_name("Hillfields <Youth> & Play")
    person = create_person(
        live_server,
        name="Wren Wardofficer",
        totp=True,
        wards=(ward_code(live_server, "Foleshill"), ward_code(live_server, "Earlsdon")),
        memberships=(
            (organisation_id(live_server, COORDINATED), "member"),
            (create_organisation(live_server, odd), "coordinator"),
        ),
    )
    page = page_as(person)
    page.goto("/account")
    assert account_row(page, "Organisations").splitlines() == [f"{COORDINATED} (demo)", odd]
    assert account_row(page, "Ward officer for") == "Earlsdon, Foleshill"


def test_delete_account_after_mistakes(page: Page, live_server: LiveServer, axe: Callable[[Page], None]) -> None:
    """Is a missing tick reported on the checkbox, is the tick kept after a wrong password, and
    does deleting then sign the person out for good?"""
    person = create_person(live_server, name="Dee Leaving")
    sign_in(page, live_server, person)
    page.get_by_role("link", name="Delete my account").click()
    expect(page.get_by_role("heading", name="Delete your account", level=1)).to_be_visible()
    tick = page.get_by_label("I understand that my account will be deleted")
    password = page.get_by_label("Your current password")
    delete = page.get_by_role("button", name="Delete my account")

    password.fill(person.password)
    delete.click()
    shows_errors(page, "Tick the box to confirm")
    expect(tick).to_have_attribute("aria-describedby", "confirm-error")
    axe(page)

    tick.check()
    password.fill("not my password")
    delete.click()
    shows_errors(page, "Your current password is not right")
    expect(tick).to_be_checked()

    password.fill(person.password)
    delete.click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your account has been deleted")
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(person.email)
    page.get_by_label("Password", exact=True).fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    shows_errors(page, "The email address or password is not right")
