"""Pages load nothing from other hosts, and still work when the configured tile server is unreachable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Response, Route, expect

from tests.browser.live import LiveServer, wait_for_map_reports
from tests.browser.pages import PUBLIC_PAGES

pytestmark = pytest.mark.browser

TILE_URL = "http://tiles.invalid/{z}/{x}/{y}.png"
WARDS = 18


@dataclass
class Traffic:
    """Requests a page made: those to other hosts (aborted), and failed ones to the app."""

    app_host: str
    outside: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def route(self, route: Route) -> None:
        if urlsplit(route.request.url).netloc == self.app_host:
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def response(self, response: Response) -> None:
        is_page = response.request.resource_type == "document"
        if response.status >= 400 and not is_page:
            self.failed.append(f"{response.status} {response.url}")

    @property
    def outside_hosts(self) -> set[str]:
        return {urlsplit(url).netloc for url in self.outside}


@pytest.fixture
def traffic(page: Page, live_server: LiveServer) -> Traffic:
    recorder = Traffic(urlsplit(live_server.url).netloc)
    page.route("**/*", recorder.route)
    page.on("response", recorder.response)
    return recorder


@pytest.fixture
def unreachable_tiles(live_server: LiveServer) -> Iterator[None]:
    """The app configured with a tile server that cannot be reached."""
    with live_server.config(TILE_URL=TILE_URL, TILE_ATTRIBUTION="Test tiles"):
        yield


def test_pages_request_nothing_from_other_hosts(page: Page, live_server: LiveServer, traffic: Traffic) -> None:
    """With no tile server configured, does every page load without a single request to another host?"""
    for public_page in PUBLIC_PAGES:
        public_page.open(page, live_server)
        page.wait_for_load_state("networkidle")
        assert not traffic.outside, f"{public_page.name} requested {traffic.outside}"
        assert not traffic.failed, f"{public_page.name}: requests to the app failed: {traffic.failed}"


@pytest.mark.usefixtures("unreachable_tiles")
@pytest.mark.parametrize("path", ["/", "/report", "/report/details?lat=52.4075&lon=-1.5084"])
def test_unreachable_tiles_leave_a_working_ward_map(page: Page, traffic: Traffic, path: str) -> None:
    """When the tile server cannot be reached, are tiles the only outside requests, and does the map still work?"""
    page.goto(path)

    expect(page.get_by_text("The street map could not be loaded, so only ward boundaries are shown.")).to_be_visible()
    expect(page.locator("[data-tellus-map]")).to_have_class(re.compile(r"\btellus-tiles-off\b"))
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("Test tiles")
    wards = page.locator(".leaflet-overlay-pane svg path.leaflet-interactive")
    if path == "/":
        expect(wards).to_have_count(WARDS)
        status = wait_for_map_reports(page)
        assert re.match(r"^[\d,]+ reports in this area", status), status
        expect(page.locator(".leaflet-marker-pane .tellus-cluster").first).to_be_visible()
    else:
        expect(wards.first).to_be_attached()
        # Off the middle, where the details page's pin already is.
        page.locator(".folium-map").click(position={"x": 120, "y": 100})
        expect(page.locator("#pin-status")).to_contain_text("Pin placed at")

    page.wait_for_load_state("networkidle")
    assert traffic.outside, "the tile layer should have been requested"
    assert traffic.outside_hosts == {"tiles.invalid"}, traffic.outside
    assert not traffic.failed, traffic.failed
