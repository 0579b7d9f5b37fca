"""Browser test fixtures: one live server on its own database, one Chromium per session,
one fresh browser context (cookies, storage) per test, and people signed in once per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, StorageState, sync_playwright

from tests.browser.journeys import sign_in
from tests.browser.live import (
    COORDINATED,
    LiveServer,
    Person,
    axe_violations,
    create_person,
    describe_violations,
    launch_chromium,
    organisation_id,
    start_live_server,
)


@pytest.fixture(scope="session")
def live_server(db_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_live_server(db_kind, tmp_path_factory.mktemp("browser"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def new_context(browser: Browser, server: LiveServer, state: StorageState | None = None) -> BrowserContext:
    """A fresh browser context (a person's own browser), signed in if ``state`` says so."""
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1280, "height": 900}, locale="en-GB", storage_state=state
    )
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = new_context(browser, live_server)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer) -> Iterator[Callable[[], Page]]:
    """``new_page()``: a page in another fresh browser context, for a second person in the same test."""
    contexts: list[BrowserContext] = []

    def make() -> Page:
        contexts.append(new_context(browser, live_server))
        return contexts[-1].new_page()

    yield make
    for context in contexts:
        context.close()


# --- People, signed in once per session -------------------------------------------------------
# Their server-side sessions are shared by every test that uses them: never sign them out or
# change their password (make a new person with create_person for that).


@pytest.fixture(scope="session")
def admin(live_server: LiveServer) -> Person:
    """A council administrator with a second factor."""
    return create_person(live_server, name="Alex Administrator", admin=True, totp=True)


@pytest.fixture(scope="session")
def resident(live_server: LiveServer) -> Person:
    return create_person(live_server, name="Robin Resident")


@pytest.fixture(scope="session")
def coordinator(live_server: LiveServer) -> Person:
    """The coordinator of a demo organisation (COORDINATED) that has another member."""
    org = organisation_id(live_server, COORDINATED)
    return create_person(live_server, name="Cory Coordinator", memberships=((org, "coordinator"),))


@pytest.fixture(scope="session")
def signed_in_states(browser: Browser, live_server: LiveServer) -> Callable[[Person], StorageState]:
    """``state(person)``: cookies of a browser where ``person`` signed in (through the pages, once)."""
    states: dict[int, StorageState] = {}

    def state(person: Person) -> StorageState:
        if person.id not in states:
            context = new_context(browser, live_server)
            sign_in(context.new_page(), live_server, person)
            states[person.id] = context.storage_state()
            context.close()
        return states[person.id]

    return state


@pytest.fixture
def page_as(
    browser: Browser, live_server: LiveServer, signed_in_states: Callable[[Person], StorageState]
) -> Iterator[Callable[[Person], Page]]:
    """``page_as(person)``: a page in a fresh browser context where ``person`` is signed in."""
    contexts: list[BrowserContext] = []

    def make(person: Person) -> Page:
        contexts.append(new_context(browser, live_server, signed_in_states(person)))
        return contexts[-1].new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def axe() -> Callable[[Page], None]:
    """``axe(page)`` fails the test, listing each rule and element, if axe-core finds WCAG 2.2 AA violations."""

    def check(page: Page) -> None:
        violations = axe_violations(page)
        assert not violations, f"axe found accessibility violations on {page.url}:\n{describe_violations(violations)}"

    return check
