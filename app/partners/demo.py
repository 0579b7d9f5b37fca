"""Demo partner organisations and sign-ins, for `make run` in demo mode only.

Every organisation and person made here has ``is_demo=True`` (organisations show
"(demo)" after their name), all people share one password, and the administrator and
ward officers have fixed TOTP secrets so ``flask demo code EMAIL`` can print their code.
Running it again adds only what is missing.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

import pyotp
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.accounts.passwords import hash_password
from app.db import utcnow
from app.geography.models import Ward
from app.partners.models import Organisation, OrganisationCategory, OrganisationWard, OrgRole, WardOfficerWard
from app.partners.services import add_member
from app.reports.models import Category, Sector

DEMO_PASSWORD = "coventry demo 2026"  # noqa: S105  (demo sign-ins only: printed by `make run`)
DOMAIN = "demo.example.org"
ALL_WARDS = ("*",)

STREETS = ("fly-tipping", "litter", "graffiti", "abandoned-vehicles", "potholes-pavements", "street-lighting")


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    name: str
    sector: Sector
    contact: str
    hours: str
    wards: tuple[str, ...]  # ward names, or ALL_WARDS
    categories: tuple[str, ...]  # category slugs


@dataclass(frozen=True)
class DemoPerson:
    name: str
    email: str
    memberships: tuple[tuple[str, OrgRole], ...] = ()
    wards: tuple[str, ...] = ()  # ward names, for ward officers
    admin: bool = False
    note: str = field(default="", compare=False)

    @property
    def needs_code(self) -> bool:
        return self.admin or bool(self.wards)


ORGANISATIONS = (
    DemoOrganisation(
        "streets",
        "Coventry City Council – Street Services",
        Sector.COUNCIL,
        "streetservices",
        "Monday to Friday, 7:30am to 6pm; emergencies at any time",
        ALL_WARDS,
        (*STREETS, "parks-green-spaces", "other"),
    ),
    DemoOrganisation(
        "housing",
        "Coventry City Council – Housing and Homelessness",
        Sector.COUNCIL,
        "housingoptions",
        "Monday to Friday, 9am to 5pm; out of hours homelessness line",
        ALL_WARDS,
        ("housing-disrepair", "rough-sleeping", "unsafe-buildings", "noise"),
    ),
    DemoOrganisation(
        "police",
        "West Midlands Police – Coventry",
        Sector.POLICE,
        "coventry.npt",
        "Neighbourhood team: every day, 8am to midnight. In an emergency call 999",
        ALL_WARDS,
        ("anti-social-behaviour", "drug-dealing", "road-safety", "abandoned-vehicles"),
    ),
    DemoOrganisation(
        "nhs",
        "NHS Coventry and Warwickshire",
        Sector.HEALTH,
        "communitywellbeing",
        "Monday to Friday, 8am to 8pm",
        ALL_WARDS,
        ("welfare-concern", "rough-sleeping"),
    ),
    DemoOrganisation(
        "fire",
        "West Midlands Fire Service – Coventry",
        Sector.FIRE,
        "coventry.prevention",
        "Prevention team: Monday to Friday, 9am to 5pm. In an emergency call 999",
        ALL_WARDS,
        ("unsafe-buildings", "fly-tipping", "welfare-concern"),
    ),
    DemoOrganisation(
        "school",
        "Three Spires Academy Trust",
        Sector.EDUCATION,
        "safeguarding.threespires",
        "Monday to Friday, 8am to 4:30pm",
        ("Foleshill", "Longford", "Henley", "Holbrook"),
        ("road-safety", "litter", "anti-social-behaviour"),
    ),
    DemoOrganisation(
        "homes",
        "Godiva Homes Housing Association",
        Sector.HOUSING,
        "neighbourhoods.godiva",
        "Monday to Friday, 8am to 6pm; repairs line every day",
        ("Binley and Willenhall", "Lower Stoke", "Upper Stoke", "Wyken", "St Michael's"),
        ("housing-disrepair", "anti-social-behaviour", "fly-tipping", "noise"),
    ),
    DemoOrganisation(
        "food",
        "Coventry Community Food Network",
        Sector.VOLUNTARY,
        "hello.foodnetwork",
        "Volunteers: Monday, Wednesday and Friday, 10am to 2pm",
        ("Foleshill", "St Michael's", "Radford", "Sherbourne", "Binley and Willenhall", "Henley"),
        ("welfare-concern", "rough-sleeping"),
    ),
    DemoOrganisation(
        "parks",
        "Friends of Coventry Parks",
        Sector.VOLUNTARY,
        "friends.parks",
        "Volunteer work days: Saturday, 10am to 4pm",
        ("Earlsdon", "Whoberley", "Wainbody", "Cheylesmore", "Westwood"),
        ("parks-green-spaces", "litter", "graffiti"),
    ),
)

C, M = OrgRole.COORDINATOR, OrgRole.MEMBER

PEOPLE = (
    DemoPerson("Helen Carter", "helen.carter", admin=True, note="Council administrator"),
    DemoPerson("Daniel Okafor", "daniel.okafor", wards=("Foleshill", "Longford", "Henley"), note="Ward officer"),
    DemoPerson("Priya Shah", "priya.shah", wards=("Earlsdon", "Wainbody", "Whoberley"), note="Ward officer"),
    DemoPerson("Mark Jennings", "mark.jennings", (("streets", C),)),
    DemoPerson("Aisha Begum", "aisha.begum", (("streets", M),)),
    DemoPerson("Sarah O'Neill", "sarah.oneill", (("housing", C),)),
    # One person in two organisations, with a different role in each.
    DemoPerson("Sam Taylor", "sam.taylor", (("housing", M), ("food", C)), note="In two organisations"),
    DemoPerson("Gareth Lloyd", "gareth.lloyd", (("police", C),)),
    DemoPerson("Emma Davies", "emma.davies", (("police", M),)),
    DemoPerson("Nadia Hussain", "nadia.hussain", (("nhs", C),)),
    DemoPerson("Chris Green", "chris.green", (("nhs", M),)),
    DemoPerson("Paul Adeyemi", "paul.adeyemi", (("fire", C),)),
    DemoPerson("Rachel Moore", "rachel.moore", (("school", C),)),
    DemoPerson("Imran Patel", "imran.patel", (("homes", C),)),
    DemoPerson("Lucy Brennan", "lucy.brennan", (("homes", M),)),
    DemoPerson("Grace Mensah", "grace.mensah", (("food", M),)),
    DemoPerson("Tom Walsh", "tom.walsh", (("parks", C),)),
)


def address(local: str) -> str:
    return f"{local}@{DOMAIN}"


def totp_secret(email: str) -> str:
    """A fixed secret per demo address, so the printed codes stay valid between runs."""
    digest = hashlib.sha256(f"tellus-demo-totp:{email}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def current_code(user: User) -> str:
    """The 6-digit code ``user``'s authenticator would show now. Raises ValueError if they have none."""
    if not user.totp_secret:
        raise ValueError(f"{user.email} has no second factor")
    return pyotp.TOTP(user.totp_secret).now()


def load_demo_accounts(session: Session) -> tuple[int, int]:
    """Create the demo organisations and people that are missing; returns (organisations, people) added.

    Needs the wards and categories loaded (``flask geo load``, the migrations).
    """
    wards = dict(session.execute(sa.select(Ward.name, Ward.code)).tuples().all())
    categories = dict(session.execute(sa.select(Category.slug, Category.id)).tuples().all())
    organisations: dict[str, Organisation] = {}
    added_orgs = 0
    for spec in ORGANISATIONS:
        org = session.scalar(sa.select(Organisation).where(Organisation.name == spec.name))
        if org is None:
            org = Organisation(
                name=spec.name,
                sector=spec.sector,
                contact_email=address(spec.contact),
                working_hours=spec.hours,
                is_demo=True,
            )
            codes = sorted(wards.values()) if spec.wards == ALL_WARDS else [wards[n] for n in spec.wards if n in wards]
            org.wards = [OrganisationWard(ward_code=code) for code in codes]
            org.categories = [
                OrganisationCategory(category_id=categories[s]) for s in spec.categories if s in categories
            ]
            session.add(org)
            added_orgs += 1
        organisations[spec.key] = org
    session.flush()

    password_hash = hash_password(DEMO_PASSWORD)  # one hash for everyone: same password, and fast
    now = utcnow()
    added_people = 0
    for person in PEOPLE:
        email = address(person.email)
        user = session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            user = User(
                email=email,
                display_name=person.name,
                password_hash=password_hash,
                email_verified_at=now,
                is_admin=person.admin,
                is_demo=True,
            )
            if person.needs_code:
                user.totp_secret = totp_secret(email)
                user.totp_enabled_at = now
            session.add(user)
            session.flush()
            user.ward_assignments.extend(WardOfficerWard(ward_code=wards[n]) for n in person.wards if n in wards)
            added_people += 1
        for key, role in person.memberships:
            add_member(session, organisations[key], user, role)
    session.flush()
    return added_orgs, added_people


def sign_in_lines(flask_command: str) -> list[str]:
    """What `make run` prints: who to sign in as, the password, and how to get a code."""
    names = {o.key: o.name for o in ORGANISATIONS}
    lines = ["Demo sign-ins (demo mode only). Password for every one: " + DEMO_PASSWORD, ""]
    for person in PEOPLE:
        role = person.note or ", ".join(f"{r.label} of {names[k]}" for k, r in person.memberships)
        if person.note and person.memberships:
            role = ", ".join(f"{r.label} of {names[k]}" for k, r in person.memberships)
        if person.wards:
            role += f" ({', '.join(person.wards)})"
        lines.append(f"  {address(person.email):<34} {role}{'  [needs a code]' if person.needs_code else ''}")
    lines += [
        "",
        "Administrators and ward officers also need a 6-digit code from an authenticator app:",
        f"  {flask_command} demo code EMAIL     prints the current code (each code works once; wait",
        "                                        30 seconds for a fresh one if it is refused)",
    ]
    return lines
