"""The home page map: clusters for the city, single reports close up, filters, and the list link."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.extensions import db
from app.reports.models import Category, Report
from tests.browser.journeys import map_name, reload_map, zoom_in_once, zoom_to_single_reports
from tests.browser.live import LiveServer, wait_for_map_reports

pytestmark = pytest.mark.browser

CLUSTERS = re.compile(r"^([\d,]+) reports in this area, shown in (\d+) groups\.")
POINTS = re.compile(r"^([\d,]+) reports? in this area\.$")


def reports_in_db(server: LiveServer, category: str | None = None) -> int:
    """Published reports (the map's); reports waiting for their emailed confirmation are private."""
    with server.app.app_context():
        query = sa.select(sa.func.count(Report.id)).join(Category).where(Report.published_at.is_not(None))
        if category:
            query = query.where(Category.slug == category)
        return int(db.session.scalar(query) or 0)


def overlapping_markers(page: Page) -> list[tuple[str, str]]:
    """Pairs of map markers (by their accessible label) whose boxes overlap on screen."""
    pairs: list[tuple[str, str]] = page.evaluate(
        """() => {
            const boxes = [...document.querySelectorAll(".leaflet-marker-pane .leaflet-marker-icon")]
                .map(el => [el.getAttribute("title"), el.getBoundingClientRect()]);
            const pairs = [];
            boxes.forEach(([a, p], i) => boxes.slice(i + 1).forEach(([b, q]) => {
                const overlap = p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom;
                if (overlap) { pairs.push([a, b]); }
            }));
            return pairs;
        }"""
    )
    return pairs


def test_city_shows_clusters_and_streets_show_single_reports(page: Page, live_server: LiveServer) -> None:
    """Does the city show groups adding up to every report, and zooming in single reports, none overlapping?"""
    page.goto("/")
    status = wait_for_map_reports(page)

    clusters = CLUSTERS.match(status)
    assert clusters, status
    assert int(clusters.group(1).replace(",", "")) == reports_in_db(live_server)
    markers = page.locator(".leaflet-marker-pane .tellus-cluster")
    expect(markers).to_have_count(int(clusters.group(2)))
    expect(page.locator(".leaflet-marker-pane .tellus-dot")).to_have_count(0)
    counts = [int(t.replace(",", "")) for t in markers.all_inner_texts()]
    assert sum(counts) == int(clusters.group(1).replace(",", ""))
    assert not overlapping_markers(page)

    zoom = page.evaluate("name => window[name].getZoom()", map_name(page))
    zoom_in_once(page)
    assert page.evaluate("name => window[name].getZoom()", map_name(page)) == zoom + 1
    status = zoom_to_single_reports(page)

    points = POINTS.match(status)
    assert points, status
    expect(page.locator(".leaflet-marker-pane .tellus-cluster")).to_have_count(0)
    pins = page.locator(".leaflet-marker-pane .leaflet-marker-icon[role=button]")
    assert pins.count() >= 1
    assert page.locator(".leaflet-marker-pane .tellus-dot").count() == pins.count()
    assert not overlapping_markers(page)

    # The pin nearest the middle of the map, clear of the zoom buttons and attribution.
    middle = page.locator(".folium-map").bounding_box()
    assert middle is not None
    centre_x, centre_y = middle["x"] + middle["width"] / 2, middle["y"] + middle["height"] / 2
    boxes = [box for box in (pins.nth(i).bounding_box() for i in range(pins.count())) if box]
    nearest = min(
        range(len(boxes)),
        key=lambda i: (
            (boxes[i]["x"] + boxes[i]["width"] / 2 - centre_x) ** 2
            + (boxes[i]["y"] + boxes[i]["height"] / 2 - centre_y) ** 2
        ),
    )
    pins.nth(nearest).click()
    popup_link = page.locator(".leaflet-popup-content a").first
    expect(popup_link).to_be_visible()
    popup_link.click()
    expect(page).to_have_url(re.compile(r"/reports/\d+$"))
    expect(page.locator(".govuk-summary-list")).to_contain_text("TC-")


def test_filters_change_what_the_map_loads(page: Page, live_server: LiveServer) -> None:
    """Does choosing a category, then a status, reload the map with only those reports?"""
    page.goto("/")
    everything = wait_for_map_reports(page)

    category = page.get_by_label("Category")
    fly_tipping = reload_map(page, lambda: category.select_option(label="Fly-tipping"), category="fly-tipping")
    assert fly_tipping != everything
    total = CLUSTERS.match(fly_tipping) or POINTS.match(fly_tipping)
    assert total, fly_tipping
    assert int(total.group(1).replace(",", "")) == reports_in_db(live_server, "fly-tipping")
    expect(page.locator("#list-link")).to_have_attribute("href", re.compile(r"category=fly-tipping"))

    status = page.get_by_label("Status")
    resolved = reload_map(
        page, lambda: status.select_option(label="Resolved"), category="fly-tipping", status="resolved"
    )
    assert resolved != fly_tipping

    def clear_filters() -> None:
        category.select_option(label="All categories")
        status.select_option(label="Any status")

    assert reload_map(page, clear_filters, category=None, status=None) == everything


def test_list_link_shows_the_reports_in_the_map_area(page: Page) -> None:
    """Does "View the reports in this area as a list" open the list filtered to what the map showed?"""
    page.goto("/")
    status = zoom_to_single_reports(page)
    shown = int(POINTS.match(status).group(1).replace(",", ""))  # type: ignore[union-attr]

    link = page.get_by_role("link", name="View the reports in this area as a list")
    bbox = parse_qs(urlsplit(str(link.get_attribute("href"))).query)["bbox"][0]
    assert bbox == page.evaluate("name => window[name].getBounds().toBBoxString()", map_name(page))
    link.click()

    expect(page).to_have_url(re.compile(r"/reports\?.*bbox="))
    expect(page.get_by_text("Showing reports in the map area you were looking at")).to_be_visible()
    expect(page.locator("p[role=status]")).to_contain_text(re.compile(rf"^{shown:,} reports?\b"))
    expect(page.get_by_role("link", name="Show reports in all of Coventry")).to_be_visible()
