"""Invitations in a real browser: an administrator sets up an organisation and invites its
first coordinator, who joins with a new account and invites a member with an account already."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.journeys import emailed_link, sign_in
from tests.browser.live import LiveServer, Person, create_person, unique_email, unique_name
from tests.browser.pages import NEW_PASSWORD

pytestmark = pytest.mark.browser


def member_row(page: Page, name: str) -> Locator:
    members = page.locator("table", has=page.locator("caption", has_text="Members of"))
    return members.locator("tbody tr").filter(has_text=name)


def flash(page: Page) -> Locator:
    return page.locator(".govuk-notification-banner")


def test_coordinator_accepts_then_adds_a_member(
    page_as: Callable[[Person], Page],
    new_page: Callable[[], Page],
    live_server: LiveServer,
    admin: Person,
    axe: Callable[[Page], None],
) -> None:
    """Can an administrator create an organisation and invite its first coordinator, who opens
    the emailed link, creates an account and lands on the organisation as its coordinator; and
    can that coordinator invite a member who signs in with an existing account and accepts?"""
    name = unique_name("Tile Hill Tenants")
    coordinator_email = unique_email("coordinator")

    # The administrator creates the organisation and invites its coordinator.
    admin_page = page_as(admin)
    admin_page.goto("/admin")
    admin_page.get_by_role("main").get_by_role("link", name="Organisations").click()
    admin_page.get_by_role("link", name="Add an organisation").click()
    admin_page.get_by_label("Name", exact=True).fill(name)
    admin_page.get_by_role("radio", name="Voluntary and community groups").check()
    admin_page.get_by_label("Contact email address").fill(unique_email("tenants"))
    admin_page.get_by_role("button", name="Add organisation").click()
    expect(flash(admin_page)).to_contain_text(f"{name} has been created")
    expect(admin_page.get_by_role("heading", name=name, level=1)).to_be_visible()
    expect(admin_page.get_by_text("No members yet.")).to_be_visible()

    admin_page.get_by_role("link", name="Invite a coordinator").click()
    expect(admin_page.get_by_role("heading", name="Invite a coordinator", level=1)).to_be_visible()
    admin_page.get_by_label("Their email address").fill(coordinator_email)
    admin_page.get_by_role("button", name="Send invitation").click()
    expect(flash(admin_page)).to_contain_text(f"Invitation sent to {coordinator_email} to coordinate {name}")
    pending = admin_page.locator("table", has=admin_page.locator("caption", has_text="Pending invitations"))
    expect(pending.locator("tbody tr")).to_have_count(1)
    expect(pending).to_contain_text(coordinator_email)
    expect(pending).to_contain_text("Coordinator")
    organisation_url = admin_page.url
    assert re.search(r"/organisations/\d+$", organisation_url), organisation_url

    # The invitee opens the emailed link in their own browser and creates an account.
    coordinator = new_page()
    coordinator.goto(emailed_link(live_server, coordinator_email, "invitation", "/invitations/"))
    expect(coordinator.get_by_role("heading", name="Create your account to accept", level=1)).to_be_visible()
    expect(coordinator.locator("main")).to_contain_text(f"to join {name} as a coordinator")
    axe(coordinator)
    coordinator.get_by_label("Your name").fill("Casey Coordinator")
    coordinator.get_by_label("Create a password").fill(NEW_PASSWORD)
    coordinator.get_by_label("Type the password again").fill(NEW_PASSWORD)
    coordinator.get_by_role("button", name="Create account and accept").click()
    expect(coordinator).to_have_url(organisation_url)
    expect(flash(coordinator)).to_contain_text(f"You have joined {name} as a coordinator.")
    expect(member_row(coordinator, "Casey Coordinator (you)")).to_contain_text("Coordinator")
    expect(coordinator.get_by_role("banner").get_by_role("link", name="Organisations")).to_be_visible()

    # The coordinator invites someone who already has an account, as a member.
    member = create_person(live_server, name="Morgan Member")
    coordinator.get_by_role("link", name="Invite someone").click()
    coordinator.get_by_label("Their email address").fill(member.email)
    expect(coordinator.get_by_role("radio", name="Member")).to_be_checked()
    coordinator.get_by_role("button", name="Send invitation").click()
    expect(flash(coordinator)).to_contain_text(f"Invitation sent to {member.email}")

    # The member opens the link, signs in with their account and accepts.
    member_page = new_page()
    link = emailed_link(live_server, member.email, "invitation", "/invitations/")
    member_page.goto(link)
    expect(member_page.get_by_role("heading", name="Sign in to accept your invitation", level=1)).to_be_visible()
    member_page.get_by_role("main").get_by_role("link", name="Sign in").click()
    sign_in(member_page, live_server, member, path=None)
    expect(member_page).to_have_url(link)
    expect(member_page.get_by_role("heading", name="Accept your invitation", level=1)).to_be_visible()
    expect(member_page.locator("main")).to_contain_text(f"to join {name} as a member")
    axe(member_page)
    member_page.get_by_role("button", name="Accept invitation").click()
    expect(member_page).to_have_url(organisation_url)
    expect(flash(member_page)).to_contain_text(f"You have joined {name} as a member.")
    expect(member_row(member_page, "Morgan Member (you)")).to_contain_text("Member")
    expect(member_page.get_by_role("link", name="Invite someone")).to_have_count(0)

    coordinator.reload()
    expect(member_row(coordinator, "Morgan Member")).to_contain_text("Member")
    expect(coordinator.get_by_text("None.")).to_be_visible()  # no invitation waiting any more

    response = member_page.goto(link)
    assert response is not None and response.status == 400
    expect(member_page.locator("main")).to_contain_text("This invitation has already been used")
