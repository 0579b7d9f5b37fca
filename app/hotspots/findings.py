"""What the nightly analysis finds, and how it is recorded as ``Finding`` rows.

``find_candidates`` runs the dashboard's own analysis (``app.hotspots.analysis``) for today on
every ward, as a ward's dashboard shows it, so each finding can be seen where its email links:

- emerging problems: each ward × category, and each hot cell of the ward (resolution 9, all
  categories), whose last 4 weeks are well above the 12 weeks before (Poisson Z ≥
  ``geo.trends.EMERGING_Z``); sharp falls are shown on the dashboard but are not findings;
- hotspots: the cells of each ward (resolution 9) significantly hot under Gi* with the
  Benjamini-Hochberg correction at ``geo.hotspot_stats.FDR_Q`` (5%: 95% confidence and up; the
  90% cells the map shows as weaker evidence are not findings) over the last 12 weeks, for all
  categories together and for each category with reports in the ward. Cold spots are not
  findings.

The city-wide map (resolution 8) is not searched: its cells are what a ward's subscribers
would not find on their ward's map, and its "all categories" hot spots mostly show where
people report most, which the ward runs already cover.

``record_findings`` matches them with the open findings by a stable ``key`` (kind, ward,
category, and the cell for a cell): a finding still present keeps its row (``last_found_at``
moves on), one no longer present gets ``ended_at``, and one with no open row is new. If it
ends and comes back, that is a new finding. ``app.hotspots.alerts`` emails the new ones.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.geography.services import ward_names as all_ward_names
from app.hotspots import analysis
from app.hotspots.filters import PERIODS, DashboardFilter
from app.hotspots.models import WARD_RESOLUTION, Finding, FindingKind, HexCount
from app.reports.models import Category
from geo.hotspot_stats import CellResult

HOTSPOT_PERIOD = "12w"  # hotspots are looked for over the last 12 weeks, the dashboard's default
CELL_AREA = "0.1 km²"  # roughly, an H3 resolution-9 cell (H3's average hexagon area)


# --- Candidates -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """Something today's analysis found, before it is matched with the recorded findings."""

    kind: FindingKind
    key: str
    ward_code: str
    category_id: int | None
    summary: str
    current: int
    expected: float
    z: float
    cell: int | None = None
    resolution: int | None = None
    p: float | None = None
    confidence: int | None = None
    trend: str = ""


def _category_part(category_id: int | None) -> str:
    return "all" if category_id is None else str(category_id)


def emerging_key(ward_code: str, category_id: int | None, cell: int | None) -> str:
    """``emerging:<ward>:<category id or all>`` for a ward × category, with ``:<cell>`` (its H3
    index in hex) for a hot cell: a cell on a boundary is looked at from each ward it touches,
    counting that ward's reports."""
    key = f"emerging:{ward_code}:{_category_part(category_id)}"
    return key if cell is None else f"{key}:{cell:x}"


def hotspot_key(ward_code: str, category_id: int | None, cell: int) -> str:
    """``hotspot:<ward>:<category id or all>:<cell>``."""
    return f"hotspot:{ward_code}:{_category_part(category_id)}:{cell:x}"


def from_emerging(found: analysis.Emerging) -> Candidate:
    """An emerging problem (a ward × category, or a hot cell) as a candidate finding."""
    return Candidate(
        kind=FindingKind.EMERGING,
        key=emerging_key(found.ward_code, found.category_id, found.cell),
        ward_code=found.ward_code,
        category_id=found.category_id,
        summary=found.summary,
        current=int(found.current),
        expected=float(found.expected),
        z=float(found.z),
        cell=found.cell,
        resolution=found.resolution if found.cell is not None else None,
        trend=found.trend or "",
    )


def _about(value: float) -> str:
    if value < 0.5:
        return "fewer than 1"
    return f"about {value:,.0f}" if value >= 10 else f"about {value:.1f}".replace(".0", "")


def hotspot_summary(
    result: CellResult, *, ward_name: str, category_name: str | None, mean: float, postcode: str | None = None
) -> str:
    """What a hotspot is, in plain English: e.g. "Fly-tipping hotspot near CV6 5AB in
    Foleshill: 23 reports in the last 12 weeks in one area of about 0.1 km², where an average
    area of the ward had about 2.5. Taken with the areas around it, it stands out with 99%
    confidence: it is unlikely to be chance." """
    what = f"{category_name} hotspot" if category_name else "Hotspot of reports in every category"
    near = f" near {postcode}" if postcode else ""
    count = int(result.count)
    text = (
        f"{what}{near} in {ward_name}: {count:,} report{'' if count == 1 else 's'} in the last 12 weeks in "
        f"one area of about {CELL_AREA}, where an average area of the ward had {_about(mean)}."
    )
    if result.confidence:
        text += (
            f" Taken with the areas around it, it stands out with {result.confidence}% confidence: "
            "it is unlikely to be chance."
        )
    return text


@dataclass(frozen=True)
class HotspotRun:
    """One Gi* run of the nightly analysis: ``cells`` (``analysis.map_cells``) of ``ward`` at
    the ward resolution, for ``category_id`` (None: all categories)."""

    ward: str
    category_id: int | None
    cells: Mapping[int, analysis.MapCell]

    def hot(self) -> list[int]:
        """The hot spots significant at the analysis' false discovery rate (95% confidence and
        up): the 90% ones the map shows as weaker evidence are not findings."""
        return sorted(
            cell for cell, found in self.cells.items() if found.result.hot is True and found.result.significant
        )


def hotspot_candidates(
    run: HotspotRun, *, ward_names: Mapping[str, str], category_names: Mapping[int, str], postcodes: Mapping[int, str]
) -> list[Candidate]:
    """The hot cells of one Gi* run as candidates (cold spots are not findings). ``expected`` is
    the ward's mean count per cell, which the summary compares the cell with."""
    if not run.cells:
        return []
    mean = sum(found.result.count for found in run.cells.values()) / len(run.cells)
    category_name = None if run.category_id is None else category_names.get(run.category_id)
    candidates = []
    for cell in run.hot():
        result = run.cells[cell].result
        candidates.append(
            Candidate(
                kind=FindingKind.HOTSPOT,
                key=hotspot_key(run.ward, run.category_id, cell),
                ward_code=run.ward,
                category_id=run.category_id,
                summary=hotspot_summary(
                    result,
                    ward_name=ward_names.get(run.ward, run.ward),
                    category_name=category_name,
                    mean=mean,
                    postcode=postcodes.get(cell),
                ),
                current=int(result.count),
                expected=mean,
                z=float(result.z),
                cell=cell,
                resolution=WARD_RESOLUTION,
                p=float(result.p),
                confidence=result.confidence,
            )
        )
    return candidates


# --- Today's analysis -----------------------------------------------------------------------


def ward_filter(ward: str, *, today: dt.date, category_id: int | None = None) -> DashboardFilter:
    """What a ward's dashboard shows by default, as the nightly analysis uses it: ``ward``
    chosen, the last 12 weeks to ``today``, every status, every category or ``category_id``."""
    return DashboardFilter(
        wards=(ward,),
        start=today - dt.timedelta(days=PERIODS[HOTSPOT_PERIOD][1] - 1),
        end=today,
        scope={ward: None},
        categories=() if category_id is None else (category_id,),
        period=HOTSPOT_PERIOD,
        ward=ward,
    )


def find_candidates(session: Session, *, today: dt.date) -> list[Candidate]:
    """Everything that stands out ``today`` in any ward (module docstring): per ward, the
    rising emerging problems, and the hot cells of a Gi* run for all categories together and
    of one for each category with reports there in the last 12 weeks. Reads only the hex
    counts and reference tables."""
    ward_names = all_ward_names(session)
    category_names = dict(session.execute(sa.select(Category.id, Category.name)).tuples().all())
    start = ward_filter("", today=today).start
    present: dict[str, list[int]] = defaultdict(list)
    rows = session.execute(
        sa.select(HexCount.ward_code, HexCount.category_id)
        .where(HexCount.day >= start, HexCount.day <= today)
        .distinct()
        .order_by(HexCount.ward_code, HexCount.category_id)
    )
    for ward, category_id in rows:
        present[ward].append(int(category_id))
    candidates: list[Candidate] = []
    runs: list[HotspotRun] = []
    for ward in sorted(ward_names):
        found = analysis.emerging(session, wards=[ward], categories=None, today=today)
        candidates += [from_emerging(e) for e in found if e.z > 0]
        if ward not in present:
            continue  # no reports in 12 weeks: nothing can be hot
        for category_id in [None, *present[ward]]:
            filters = ward_filter(ward, today=today, category_id=category_id)
            runs.append(HotspotRun(ward, category_id, analysis.map_cells(session, filters, WARD_RESOLUTION)))
    postcodes = analysis.nearest_postcodes(session, {cell for run in runs for cell in run.hot()})
    for run in runs:
        candidates += hotspot_candidates(run, ward_names=ward_names, category_names=category_names, postcodes=postcodes)
    return candidates


# --- Recording findings ---------------------------------------------------------------------


@dataclass
class FindingChanges:
    new: list[Finding] = field(default_factory=list)
    kept: list[Finding] = field(default_factory=list)
    ended: list[Finding] = field(default_factory=list)


def record_findings(session: Session, candidates: Iterable[Candidate], *, now: dt.datetime) -> FindingChanges:
    """Match today's ``candidates`` with the open findings by key: keep those still found
    (``last_found_at`` = ``now``; what was first found, and alerted, stays as it was), end
    those no longer found, and add the rest as new findings. Flushes, never commits.

    A new finding is inserted in a SAVEPOINT: if another run inserted the same open key
    meanwhile (the partial unique index), that run's row is kept instead, and it is not new
    here (so not alerted twice)."""
    wanted: dict[str, Candidate] = {}
    for candidate in candidates:
        wanted.setdefault(candidate.key, candidate)
    changes = FindingChanges()
    open_findings = {f.key: f for f in session.scalars(sa.select(Finding).where(Finding.ended_at.is_(None)))}
    for key, finding in open_findings.items():
        if key in wanted:
            finding.last_found_at = now
            changes.kept.append(finding)
        else:
            finding.ended_at = now
            changes.ended.append(finding)
    session.flush()
    for key, candidate in wanted.items():
        if key in open_findings:
            continue
        finding = Finding(
            kind=candidate.kind,
            key=key,
            ward_code=candidate.ward_code,
            category_id=candidate.category_id,
            cell=candidate.cell,
            resolution=candidate.resolution,
            summary=candidate.summary,
            current=candidate.current,
            expected=candidate.expected,
            z=candidate.z,
            p=candidate.p,
            confidence=candidate.confidence,
            trend=candidate.trend,
            first_found_at=now,
            last_found_at=now,
        )
        try:
            with session.begin_nested():
                session.add(finding)
        except IntegrityError:
            theirs = session.scalar(sa.select(Finding).where(Finding.key == key, Finding.ended_at.is_(None)))
            if theirs is not None:
                theirs.last_found_at = now
                changes.kept.append(theirs)
            continue
        changes.new.append(finding)
    session.flush()
    return changes
