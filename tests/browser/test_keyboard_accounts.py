"""Signing in, the second factor and signing out with the keyboard alone, with the focus
visible at every stop."""

from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.journeys import by_id, by_name, tab_to
from tests.browser.live import LiveServer, Person, create_person, totp_code

pytestmark = pytest.mark.browser


def sign_in_with_keys(page: Page, person: Person) -> None:
    """From the home page: the header's Sign in link, the email, the password, the button."""
    page.goto("/")
    tab_to(page, by_name("Sign in"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    page.wait_for_load_state()  # keys pressed while the page changes go nowhere
    tab_to(page, by_id("email"))
    page.keyboard.type(person.email)
    tab_to(page, by_id("password"))
    page.keyboard.type(person.password)
    tab_to(page, by_name("Sign in"))
    page.keyboard.press("Enter")


def test_sign_in_with_a_code_and_sign_out_with_the_keyboard(page: Page, live_server: LiveServer) -> None:
    """Can someone with two-step sign-in sign in, type their code, and then sign out with the
    header's Sign out button, using only Tab, typing and Enter?"""
    person = create_person(live_server, name="Kit Keyboard", totp=True)
    sign_in_with_keys(page, person)
    expect(page.get_by_role("heading", name="Enter the code from your app", level=1)).to_be_visible()
    page.wait_for_load_state()
    tab_to(page, by_id("code"))
    page.keyboard.type(totp_code(live_server, person))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()
    page.wait_for_load_state()

    tab_to(page, by_name("Sign out"))
    page.keyboard.press("Enter")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have signed out.")
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()
    assert page.goto("/account") is not None
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))


def test_set_up_a_code_with_the_keyboard(page: Page, live_server: LiveServer) -> None:
    """Can an administrator who must set up two-step sign-in read the key, type a code and turn
    it on with the keyboard alone, then reach the header's Sign out button backwards from the
    notice that has the focus and press it with Space?"""
    person = create_person(live_server, name="Kai Keyboard", admin=True)
    sign_in_with_keys(page, person)
    expect(page).to_have_url(re.compile(r"/account/two-factor$"))
    page.wait_for_load_state()
    secret = re.sub(r"\s", "", page.locator(".tellus-secret").inner_text())

    tab_to(page, by_id("code"))
    page.keyboard.type(pyotp.TOTP(secret).now())
    tab_to(page, by_name("Turn on two-step sign-in"))
    page.keyboard.press("Space")
    expect(page).to_have_url(re.compile(r"/account$"))
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("Two-step sign-in is on")
    expect(banner).to_be_focused()  # GOV.UK Frontend moves the focus to a success notice

    tab_to(page, by_name("Sign out"), key="Shift+Tab")
    page.keyboard.press("Space")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You have signed out.")
