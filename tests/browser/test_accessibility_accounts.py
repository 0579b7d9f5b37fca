"""axe-core (WCAG 2.2 A and AA rules) on every page of accounts, partner organisations and
administration, as the person who uses it sees it, including pages showing errors; and
reflow to 320 pixels wide (WCAG 1.4.10), which axe does not check."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from tests.browser.live import LiveServer, Person, overflowing_at
from tests.browser.pages import ACCOUNT_PAGES, AccountPage

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("account_page", ACCOUNT_PAGES, ids=lambda p: p.name)
def test_account_page_has_no_axe_violations(
    request: pytest.FixtureRequest,
    live_server: LiveServer,
    new_page: Callable[[], Page],
    page_as: Callable[[Person], Page],
    account_page: AccountPage,
    axe: Callable[[Page], None],
) -> None:
    """Does axe find no WCAG 2.2 AA violations on this page, seen by the person it is for, and
    does everything but its tables still fit the window at 320 pixels wide?"""
    person: Person | None = request.getfixturevalue(account_page.who) if account_page.who else None
    page = page_as(person) if person else new_page()
    account_page.open(page, live_server, person)
    axe(page)
    overflowing = overflowing_at(page, 320)
    assert not overflowing, f"at 320px wide, these run off the right edge of {page.url}:\n" + "\n".join(overflowing)
