"""A realistic, deterministic demo data set, written through the bulk path.

Reports are placed at real postcode centroids (jittered by up to ~30 m, never at an
invented address), chosen with weights that rise with deprivation (IMD 2025 decile of
the postcode's LSOA), with plausible category mixes and seasonal patterns, and statuses
that depend on age. The same seed always gives the same data.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import random
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
from app.reports import aggregates
from app.reports.models import Category, Report, ReportStatus
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


def generate(
    session: Session, *, count: int, seed: int, data_dir: Path, end: dt.datetime, years: float = 2.0, batch: int = 10000
) -> Iterator[int]:
    """Insert ``count`` demo reports dated over ``years`` before ``end``, in batches.

    Yields the running total after each batch (for progress). The per-cell counts are
    rebuilt at the end. Raises RuntimeError if the geography or categories are missing.
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
    table = Report.__table__  # Core insert: the bulk path skips the ORM unit of work
    done = 0
    while done < count:
        size = min(batch, count - done)
        rows: list[dict[str, Any]] = []
        chosen_places = rng.choices(places, weights=place_weights, k=size)
        for place in chosen_places:
            slug = _pick_category(rng, slugs, place)
            category = categories[slug]
            created = _pick_time(rng, end, span, CATEGORY_MIX[slug][1])
            point = Point(place.lon + rng.uniform(-0.0004, 0.0004), place.lat + rng.uniform(-0.00025, 0.00025))
            shown = coarsen(point) if category.sensitive else point
            title, description = rng.choice(TEMPLATES[slug])
            name = rng.choice(FIRST_NAMES) if rng.random() < 0.6 else None
            age = (end - created).total_seconds() / 86400
            rows.append(
                {
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
            )
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
    aggregates.rebuild(session)


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
        # More reports in the day and evening than at night.
        hour = rng.choices(range(24), weights=[1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7, 6, 4, 3, 2])[
            0
        ]
        return moment.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
