"""A realistic, deterministic demo data set, written through the bulk path.

Reports are placed at real postcode centroids (jittered by up to ~30 m, never at an
invented address), chosen with weights that rise with deprivation (IMD 2025 decile of
the postcode's LSOA), with plausible category mixes and seasonal patterns, and statuses
that depend on age. The same seed always gives the same data.

Two problems are planted for the ward dashboard to find, in wards the demo ward officer
covers (app/partners/demo.py), as shares of the reports so they stay visible at any size
(``planted_problems`` says where they went; docs/hotspots-data.md describes them):

- a persistent hotspot: fly-tipping in three adjacent H3 resolution-9 cells of Foleshill,
  spread evenly over the last 12 months, well above the reports around them;
- an emerging problem: graffiti in Longford, at its background level (about one report in
  two weeks at 5,000 reports) until 8 weeks ago, then rising week by week to about ten times
  that in the last week.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from shapely import wkt as shapely_wkt
from sqlalchemy.orm import Session

from app.geography.models import Postcode, Ward
from app.hotspots import counts
from app.hotspots.models import WARD_RESOLUTION
from app.reports import aggregates
from app.reports.models import Category, Report, ReportStatus
from geo import hexes
from geo.coarsen import coarsen
from geo.coords import Point

# Share of reports per category, and the month (1-12) each one peaks in (0: no season).
CATEGORY_MIX: dict[str, tuple[float, int]] = {
    "fly-tipping": (0.17, 7),
    "litter": (0.10, 7),
    "graffiti": (0.05, 0),
    "potholes-pavements": (0.13, 2),
    "street-lighting": (0.07, 12),
    "abandoned-vehicles": (0.04, 0),
    "road-safety": (0.04, 10),
    "parks-green-spaces": (0.04, 6),
    "anti-social-behaviour": (0.09, 8),
    "drug-dealing": (0.03, 0),
    "noise": (0.06, 7),
    "unsafe-buildings": (0.02, 1),
    "housing-disrepair": (0.05, 1),
    "rough-sleeping": (0.02, 1),
    "welfare-concern": (0.02, 12),
    "other": (0.07, 0),
}

TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "fly-tipping": [
        (
            "Mattresses dumped on the verge",
            "Two mattresses and some black bags have been left on the grass verge. They have been there since the weekend.",
        ),
        (
            "Builders' rubble left in the alley",
            "A pile of rubble, plasterboard and tins of paint has been dumped in the back alley behind the houses.",
        ),
        (
            "Sofa and fridge dumped by the bins",
            "Someone has left an old sofa and a fridge next to the communal bins. Children are climbing on them.",
        ),
    ],
    "litter": [
        (
            "Overflowing litter bin",
            "The litter bin by the bus stop is overflowing and rubbish is blowing across the road.",
        ),
        ("Litter all along the footpath", "The footpath is covered in cans, bottles and takeaway boxes."),
    ],
    "graffiti": [
        ("Graffiti on the underpass", "New graffiti has been sprayed along the underpass walls, some of it offensive."),
        ("Tags on shop shutters", "Several shop shutters have been tagged overnight."),
    ],
    "potholes-pavements": [
        ("Deep pothole in the road", "There is a deep pothole near the junction. Cars are swerving to avoid it."),
        ("Broken paving slabs", "Several paving slabs are cracked and lifting. Someone tripped here last week."),
        ("Sunken drain cover", "The drain cover has sunk and there is a sharp edge in the road."),
    ],
    "street-lighting": [
        (
            "Street light not working",
            "The street light outside has been out for over a week and the road is very dark.",
        ),
        ("Light flickering on and off", "The street light keeps flickering on and off all night."),
    ],
    "abandoned-vehicles": [
        ("Car left with flat tyres", "A car with flat tyres and no tax has been parked here for over a month."),
        ("Van abandoned on the grass", "A white van has been abandoned on the grass. The windows are smashed."),
    ],
    "road-safety": [
        ("Cars speeding past the school", "Cars regularly speed past the school at drop-off and pick-up times."),
        (
            "Hedge blocking the view at the junction",
            "An overgrown hedge blocks the view of traffic when pulling out of the junction.",
        ),
    ],
    "parks-green-spaces": [
        ("Broken swing in the play area", "One of the swings in the play area is broken and hanging by one chain."),
        ("Grass not cut", "The grass in the park has not been cut for weeks and is knee high."),
    ],
    "anti-social-behaviour": [
        ("Groups gathering late at night", "Groups gather late at night, shouting and throwing bottles."),
        ("Motorbikes riding on the field", "Off-road motorbikes are being ridden across the playing field."),
    ],
    "drug-dealing": [
        (
            "Suspected drug dealing",
            "Cars stop briefly and people hand things through the windows, several times an evening.",
        )
    ],
    "noise": [
        ("Loud music every night", "Very loud music until the early hours, most nights of the week."),
        ("Barking dog all day", "A dog barks all day while the owners are out."),
    ],
    "unsafe-buildings": [
        ("Loose roof tiles on empty building", "Roof tiles are slipping off an empty building onto the pavement.")
    ],
    "housing-disrepair": [
        (
            "Damp and mould in the flat",
            "Black mould is spreading in the bedrooms and the landlord has not fixed the leak.",
        )
    ],
    "rough-sleeping": [
        (
            "Person sleeping in the doorway",
            "Someone has been sleeping in the shop doorway for several nights and looks unwell.",
        )
    ],
    "welfare-concern": [
        (
            "Worried about an elderly neighbour",
            "I have not seen my elderly neighbour for a week and the post is piling up.",
        )
    ],
    "other": [
        ("Overgrown tree over the pavement", "Tree branches hang low over the pavement and hit people walking past."),
        ("Dog fouling on the path", "There is a lot of dog mess along this path to the school."),
    ],
}

# More reports in the day and evening than at night.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7, 6, 4, 3, 2]

FIRST_NAMES = [
    "Amira",
    "Ben",
    "Chloe",
    "Darius",
    "Ewa",
    "Farhan",
    "Grace",
    "Harjit",
    "Ioana",
    "Jamal",
    "Kerry",
    "Liam",
    "Mei",
    "Nasra",
    "Owen",
    "Priya",
    "Rhys",
    "Sana",
    "Tom",
    "Zofia",
]


@dataclass(frozen=True)
class _Place:
    postcode: str
    lon: float
    lat: float
    ward_code: str
    weight: float


def _places(session: Session, data_dir: Path) -> list[_Place]:
    deciles: dict[str, int] = {}
    with (data_dir / "lsoa21_imd2025.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            deciles[row["lsoa21_code"]] = int(row["imd2025_decile"])
    places = []
    for pc in session.scalars(sa.select(Postcode).order_by(Postcode.postcode)):
        decile = deciles.get(pc.lsoa21_code, 5)
        # Decile 1 (most deprived) gets about 4 times the reports of decile 10.
        places.append(_Place(pc.postcode, pc.lon, pc.lat, pc.ward_code, (11 - decile) ** 0.6))
    if not places:
        raise RuntimeError("No postcodes loaded: run `flask geo load` first")
    return places


def _ward_index(session: Session) -> tuple[list[str], list[str], shapely.STRtree]:
    rows = session.execute(sa.select(Ward.code, Ward.vintage, sa.func.ST_AsText(Ward.geom))).all()
    geoms = [shapely_wkt.loads(text) for _, _, text in rows]
    return [r[0] for r in rows], [r[1] for r in rows], shapely.STRtree(geoms)


def _status_for(age_days: float, rng: random.Random) -> ReportStatus:
    roll = rng.random()
    if age_days < 3:
        return ReportStatus.NEW if roll < 0.8 else ReportStatus.ACKNOWLEDGED
    if age_days < 30:
        ladder = [
            (0.2, ReportStatus.NEW),
            (0.45, ReportStatus.ACKNOWLEDGED),
            (0.75, ReportStatus.IN_PROGRESS),
            (0.93, ReportStatus.RESOLVED),
        ]
    else:
        ladder = [
            (0.02, ReportStatus.NEW),
            (0.05, ReportStatus.ACKNOWLEDGED),
            (0.12, ReportStatus.IN_PROGRESS),
            (0.82, ReportStatus.RESOLVED),
        ]
    for limit, status in ladder:
        if roll < limit:
            return status
    return ReportStatus.CLOSED


# The planted problems (module docstring). Shares are of all the demo reports.
CLUSTER_WARD = "E05001222"  # Foleshill
CLUSTER_CATEGORY = "fly-tipping"
CLUSTER_POINT = Point(lon=-1.4958, lat=52.4270)  # in Foleshill, with Foleshill all around it
CLUSTER_SHARE = 0.012  # 60 of 5,000 reports, 20 a cell a year
CLUSTER_DAYS = 365
TREND_WARD = "E05001225"  # Longford
TREND_CATEGORY = "graffiti"
# Extra reports in each of the last 8 weeks, oldest first, per 5,000 demo reports, on top of
# the background (about 0.6 a week at 5,000): 24 in all, 18 of them in the last 4 weeks.
TREND_RISE = (1, 1, 2, 2, 3, 4, 5, 6)


@dataclass(frozen=True)
class PlantedProblems:
    """Where ``generate`` plants its two problems, for the tests and docs to check against."""

    cluster_ward: str
    cluster_category: str
    cluster_cells: tuple[int, ...]  # H3 resolution 9, adjacent to each other
    trend_ward: str
    trend_category: str


def planted_problems(session: Session) -> PlantedProblems:
    """The planted problems' wards, categories and hotspot cells: the resolution-9 cell of
    ``CLUSTER_POINT`` and the two touching cells (touching each other too) with the most
    Foleshill postcodes. Raises RuntimeError if the postcodes are not loaded."""
    centre = hexes.cell_of(CLUSTER_POINT.lon, CLUSTER_POINT.lat, WARD_RESOLUTION)
    ring = hexes.disk(centre, 1)[1:]
    postcodes = _postcodes_by_cell(session, CLUSTER_WARD)
    if not postcodes:
        raise RuntimeError("No postcodes loaded: run `flask geo load` first")
    # Consecutive cells of a ring touch; the first best pair wins ties, so the choice is fixed.
    pairs = [(ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring))]
    best = max(pairs, key=lambda p: len(postcodes.get(p[0], [])) + len(postcodes.get(p[1], [])))
    return PlantedProblems(CLUSTER_WARD, CLUSTER_CATEGORY, (centre, *best), TREND_WARD, TREND_CATEGORY)


def _postcodes_by_cell(session: Session, ward_code: str) -> dict[int, list[str]]:
    cells: dict[int, list[str]] = {}
    rows = session.execute(
        sa.select(Postcode.postcode, Postcode.lon, Postcode.lat)
        .where(Postcode.ward_code == ward_code)
        .order_by(Postcode.postcode)
    )
    for postcode, lon, lat in rows:
        cells.setdefault(hexes.cell_of(lon, lat, WARD_RESOLUTION), []).append(postcode)
    return cells


_Draw = tuple[_Place, str, dt.datetime]


def _planted_draws(
    session: Session, places: list[_Place], rng: random.Random, *, count: int, end: dt.datetime, span_days: float
) -> list[_Draw]:
    """The planted reports (place, category slug, time): the Foleshill cluster and the Longford
    trend, sized from ``count``, none after ``end``."""
    plan = planted_problems(session)
    in_cells = {pc for cell in plan.cluster_cells for pc in _postcodes_by_cell(session, CLUSTER_WARD).get(cell, [])}
    cluster_places = [p for p in places if p.postcode in in_cells]
    draws: list[_Draw] = []
    for _ in range(round(count * CLUSTER_SHARE)):
        moment = end - dt.timedelta(days=rng.uniform(0, min(CLUSTER_DAYS, span_days)))
        draws.append((rng.choice(cluster_places), CLUSTER_CATEGORY, _at_hour(rng, moment, end)))
    trend_places = [p for p in places if p.ward_code == TREND_WARD]
    trend_weights = [p.weight for p in trend_places]
    # Whole reports a week that add up to the planned extra (systematic rounding from a random
    # start), not random draws: at 5,000 reports the rise is a handful a week, and one unlucky
    # draw could hide it. The background reports give the baseline and the week-to-week noise.
    carry = rng.random()
    for back, extra in enumerate(reversed(TREND_RISE)):  # back 0: the last 7 days before ``end``
        carry += extra * count / 5000
        made, carry = int(carry), carry - int(carry)
        for _ in range(made):
            moment = end - dt.timedelta(days=7 * back + rng.uniform(0, 7))
            place = rng.choices(trend_places, weights=trend_weights)[0]
            draws.append((place, TREND_CATEGORY, _at_hour(rng, moment, end)))
    return draws


def _at_hour(rng: random.Random, moment: dt.datetime, end: dt.datetime) -> dt.datetime:
    """``moment`` at a plausible hour of its day (more by day than at night), never after ``end``."""
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    chosen = moment.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
    return chosen if chosen <= end else chosen - dt.timedelta(days=1)


def generate(
    session: Session,
    *,
    count: int,
    seed: int,
    data_dir: Path,
    end: dt.datetime,
    years: float = 2.0,
    batch: int = 10000,
    timings: dict[str, float] | None = None,
) -> Iterator[int]:
    """Insert ``count`` demo reports dated over ``years`` before ``end``, in batches, the
    planted problems among them (module docstring), each with its H3 cells.

    Yields the running total after each batch (for progress). The map's per-cell counts and
    the ward dashboard's hex counts are rebuilt at the end; ``timings`` (for the benchmarks),
    if given, gets the seconds each took as "map_cells_s" and "hex_counts_s". Raises
    RuntimeError if the geography or categories are missing.
    """
    rng = random.Random(seed)
    categories = {c.slug: c for c in session.scalars(sa.select(Category))}
    missing = set(CATEGORY_MIX) - set(categories)
    if missing:
        raise RuntimeError(f"Categories missing: {', '.join(sorted(missing))}; run the migrations")
    places = _places(session, data_dir)
    place_weights = [p.weight for p in places]
    codes, vintages, tree = _ward_index(session)
    vintage_of = dict(zip(codes, vintages, strict=True))
    slugs = list(CATEGORY_MIX)
    span = years * 365.25
    planted = _planted_draws(session, places, rng, count=count, end=end, span_days=span)[:count]
    background = count - len(planted)
    table = Report.__table__  # Core insert: the bulk path skips the ORM unit of work
    done = 0
    while done < count:
        size = min(batch, count - done)
        draws: list[_Draw] = []
        if done < background:
            chosen_places = rng.choices(places, weights=place_weights, k=min(size, background - done))
            for place in chosen_places:
                slug = _pick_category(rng, slugs, place)
                draws.append((place, slug, _pick_time(rng, end, span, CATEGORY_MIX[slug][1])))
        # The planted reports come last, after the background ones (clamped: a negative slice
        # end would count from the end of the list).
        draws.extend(planted[max(0, done - background) : max(0, done + size - background)])
        rows = [_row(rng, place, categories[slug], created, end) for place, slug, created in draws]
        # Jitter can cross a ward edge: assign wards by polygon, as the report form does.
        xs = np.array([r["lon"] for r in rows])
        ys = np.array([r["lat"] for r in rows])
        hits = tree.query(shapely.points(xs, ys), predicate="intersects")
        for point_index, ward_index in zip(hits[0], hits[1], strict=True):
            rows[point_index]["ward_code"] = codes[ward_index]
        for row in rows:
            row["ward_vintage"] = vintage_of.get(row["ward_code"], "")
        session.execute(sa.insert(table), rows)  # type: ignore[arg-type]
        done += size
        yield done
    started = time.perf_counter()
    aggregates.rebuild(session)
    rebuilt = time.perf_counter()
    counts.rebuild(session)
    if timings is not None:
        timings.update(map_cells_s=rebuilt - started, hex_counts_s=time.perf_counter() - rebuilt)


def _row(
    rng: random.Random, place: _Place, category: Category, created: dt.datetime, end: dt.datetime
) -> dict[str, Any]:
    point = Point(place.lon + rng.uniform(-0.0004, 0.0004), place.lat + rng.uniform(-0.00025, 0.00025))
    shown = coarsen(point) if category.sensitive else point
    title, description = rng.choice(TEMPLATES[category.slug])
    name = rng.choice(FIRST_NAMES) if rng.random() < 0.6 else None
    age = (end - created).total_seconds() / 86400
    # The cells are computed here, in the bulk loop, so the rebuild finds them all up to date.
    cell9, cell8 = counts.cells_of(shown.lon, shown.lat)
    return {
        "category_id": category.id,
        "status": _status_for(age, rng),
        "title": title,
        "description": f"{description} Near {place.postcode}.",
        "lon": point.lon,
        "lat": point.lat,
        "geom": f"SRID=4326;{point.wkt()}",
        "public_lon": shown.lon,
        "public_lat": shown.lat,
        "public_geom": f"SRID=4326;{shown.wkt()}",
        "h3_r9": cell9,
        "h3_r8": cell8,
        "ward_code": place.ward_code,
        "ward_vintage": "",
        "reporter_name": name,
        "show_name": bool(name) and rng.random() < 0.4,
        "reporter_email": f"resident{rng.randrange(1, 40000)}@example.org",
        "source": "demo",
        "published_at": created,
        "created_at": created,
        "updated_at": created,
    }


def _pick_category(rng: random.Random, slugs: list[str], place: _Place) -> str:
    weights = [CATEGORY_MIX[s][0] for s in slugs]
    # Rough sleeping concentrates in the city centre.
    if place.ward_code == "E05001228":  # St Michael's
        weights[slugs.index("rough-sleeping")] *= 6
    return rng.choices(slugs, weights=weights)[0]


def _pick_time(rng: random.Random, end: dt.datetime, span_days: float, peak_month: int) -> dt.datetime:
    while True:
        moment = end - dt.timedelta(days=rng.uniform(0, span_days))
        if peak_month:
            # A seasonal swing of +/-35% around the peak month (rejection sampling).
            phase = 2 * math.pi * (moment.month - peak_month) / 12
            if rng.random() > (1 + 0.35 * math.cos(phase)) / 1.35:
                continue
        return _at_hour(rng, moment, end)
