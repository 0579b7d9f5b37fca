"""The ward dashboard in Chromium: it loads with its map and passes axe-core (WCAG 2.2 A and AA)
and reflow to 320 pixels, with and without errors; the map's layers switch in place with the
mouse and with the keyboard, and by reloading the page without JavaScript; and a trend chart's
table alternative is reached and opened with the keyboard."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, StorageState, expect

from tests.browser.journeys import by_id, focused, tab_to
from tests.browser.live import LiveServer, Person, create_person, ward_code
from tests.browser.pages import shows_errors
from tests.browser.test_accessibility_cases import open_page
from tests.browser.test_performance import check_map_page

pytestmark = pytest.mark.browser

WARD = "St Michael's"  # the city centre: the demo data has reports there every month

# Which of the map's three layers Leaflet shows now: {"counts": true, "hotspots": false, ...}.
SHOWN_JS = """() => {
    const container = document.querySelector("[data-dashboard-map]");
    const names = JSON.parse(container.getAttribute("data-layers"));
    const map = window[container.getAttribute("data-tellus-map")];
    return Object.fromEntries(Object.entries(names).map(([key, name]) => [key, map.hasLayer(window[name])]));
}"""


@pytest.fixture(scope="module")
def officer(live_server: LiveServer) -> Person:
    """A ward officer for St Michael's, with the second factor ward officers must have."""
    return create_person(live_server, name="Wendy Wardofficer", wards=(ward_code(live_server, WARD),), totp=True)


def shown(page: Page) -> dict[str, bool]:
    found: dict[str, bool] = page.evaluate(SHOWN_JS)
    return found


def open_dashboard(page: Page, path: str = "/dashboard", *, status: int = 200) -> None:
    open_page(page, path, WARD, status=status)
    if status == 200:
        expect(page.locator("[data-dashboard-map] .leaflet-container")).to_be_visible()


def test_the_dashboard_loads_and_has_no_axe_violations(
    page_as: Callable[[Person], Page], officer: Person, axe: Callable[[Page], None]
) -> None:
    """Does a ward officer's dashboard load with its note on what counts mean, the map (report
    counts shown first, with its key), the list alternative, the trends with their charts and
    the ward comparison, and pass axe and reflow to 320 pixels wide?"""
    page = page_as(officer)
    open_dashboard(page)
    expect(page.locator("#reporting-note")).to_contain_text("Report counts show where people report")
    assert shown(page) == {"counts": True, "hotspots": False, "heat": False}
    expect(page.locator("[data-legend='counts']")).to_be_visible()
    expect(page.locator("[data-legend='hotspots']")).to_be_hidden()
    expect(page.get_by_text("The hexagons as a table")).to_be_visible()
    expect(page.locator("svg#chart-weekly-all")).to_be_visible()
    expect(page.locator("#ward-table")).to_contain_text(WARD)
    expect(page.get_by_role("banner").get_by_role("link", name="Dashboard")).to_be_visible()
    check_map_page(page, axe)


def test_a_bad_filter_shows_the_error_and_has_no_axe_violations(
    page_as: Callable[[Person], Page], officer: Person, axe: Callable[[Page], None]
) -> None:
    """With a period that is not on the list, is the page shown again (400) with the error
    summary focused and linking to the field, and does it pass axe?"""
    page = page_as(officer)
    open_page(page, "/dashboard?period=forever&status=new", WARD, status=400)
    shows_errors(page, "Choose a period from the list")
    expect(page.get_by_label("New")).to_be_checked()
    axe(page)


def test_the_layers_switch_in_place_with_the_mouse(page_as: Callable[[Person], Page], officer: Person) -> None:
    """Does choosing "Hot and cold spots", then "Heat map", switch the map's layer and its key
    without reloading the page, and keep the choice in the address?"""
    page = page_as(officer)
    open_dashboard(page)
    page.evaluate("() => { window.notReloaded = true; }")
    expect(page.locator("[data-layer-button]")).to_be_hidden()
    page.get_by_role("radio", name="Hot and cold spots").check()
    assert shown(page) == {"counts": False, "hotspots": True, "heat": False}
    expect(page.locator("[data-legend='hotspots']")).to_be_visible()
    expect(page.locator("[data-legend='hotspots']")).to_contain_text("Hot spot, 99% confidence")
    expect(page.locator("[data-legend='counts']")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"layer=hotspots"))
    page.get_by_role("radio", name="Heat map").check()
    assert shown(page) == {"counts": False, "hotspots": False, "heat": True}
    expect(page.locator("[data-dashboard-map] canvas.leaflet-heatmap-layer")).to_have_count(1)
    assert page.evaluate("() => window.notReloaded") is True


def test_the_layers_switch_with_the_keyboard(page_as: Callable[[Person], Page], officer: Person) -> None:
    """Can a keyboard user Tab to "The map shows" and switch layers with the arrow keys, with
    the focus visible and the change announced?"""
    page = page_as(officer)
    open_dashboard(page)
    tab_to(page, by_id("layer"), limit=120)
    page.keyboard.press("ArrowRight")
    assert focused(page)["id"] == "layer-hotspots"
    expect(page.locator("#layer-hotspots")).to_be_checked()
    assert shown(page)["hotspots"] is True
    expect(page.locator("#map-status")).to_have_text("The map now shows hot and cold spots.")
    page.keyboard.press("ArrowRight")
    assert shown(page) == {"counts": False, "hotspots": False, "heat": True}
    expect(page.locator("#map-status")).to_have_text("The map now shows heat map.")


def test_the_layers_switch_without_javascript(
    browser: Browser,
    live_server: LiveServer,
    officer: Person,
    signed_in_states: Callable[[Person], StorageState],
) -> None:
    """With JavaScript off, does choosing "Heat map" and "Show on the map" reload the page with
    the heat map's key shown and the radio still chosen?"""
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 900},
        locale="en-GB",
        java_script_enabled=False,
        storage_state=signed_in_states(officer),
    )
    try:
        page = context.new_page()
        open_page(page, "/dashboard", WARD)
        expect(page.locator("[data-legend='heat']")).to_be_hidden()
        page.get_by_role("radio", name="Heat map").check()
        page.get_by_role("button", name="Show on the map").click()
        expect(page).to_have_url(re.compile(r"layer=heat"))
        expect(page.get_by_role("radio", name="Heat map")).to_be_checked()
        expect(page.locator("[data-legend='heat']")).to_be_visible()
        expect(page.locator("[data-legend='counts']")).to_be_hidden()
    finally:
        context.close()


def test_a_charts_table_is_reached_and_opened_with_the_keyboard(
    page_as: Callable[[Person], Page], officer: Person
) -> None:
    """Can a keyboard user Tab to the weekly chart's "figures as a table", open it with Enter
    and read the table with the same weeks as the chart?"""
    page = page_as(officer)
    open_dashboard(page)
    table = page.locator("#table-weekly-all")
    expect(table).to_be_hidden()
    info: dict[str, Any] = tab_to(page, lambda i: i["name"] == "Weekly figures as a table", limit=150)
    assert info["tag"] == "SUMMARY"
    page.keyboard.press("Enter")
    expect(table).to_be_visible()
    weeks = page.locator("svg#chart-weekly-all").get_attribute("aria-label") or ""
    rows = table.locator("tbody tr")
    assert f"{rows.count()} weeks" in weeks
    expect(rows.first.locator("th")).to_contain_text("Week to")
