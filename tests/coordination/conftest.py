"""Fixtures for cases: organisations (shared with tests/partners) and a partner world."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from app.accounts.models import User
from app.partners.models import Organisation
from geo.coords import Point
from tests.partners.conftest import BABLAKE, ST_MICHAELS, make_organisation

__all__ = ["BABLAKE", "BABLAKE_POINT", "ST_MICHAELS", "Partners", "make_organisation", "partners"]

BABLAKE_POINT = Point(lon=-1.563014, lat=52.44053)


@dataclass
class Partners:
    """Three organisations: council and police both cover fly-tipping in St Michael's; the
    housing association covers noise only. One member in each, and an administrator."""

    council: Organisation
    police: Organisation
    housing: Organisation
    council_member: User
    police_member: User
    housing_member: User
    admin: User


@pytest.fixture
def partners(make_user: Callable[..., User], make_organisation: Callable[..., Organisation]) -> Partners:
    council_member, police_member, housing_member = make_user(), make_user(), make_user()
    return Partners(
        council=make_organisation(
            name="Council",
            members={council_member: "member"},
            wards=[ST_MICHAELS, BABLAKE],
            categories=["fly-tipping", "litter"],
        ),
        police=make_organisation(
            name="Police", members={police_member: "coordinator"}, wards=[ST_MICHAELS], categories=["fly-tipping"]
        ),
        housing=make_organisation(
            name="Housing", members={housing_member: "member"}, wards=[ST_MICHAELS], categories=["noise"]
        ),
        council_member=council_member,
        police_member=police_member,
        housing_member=housing_member,
        admin=make_user(admin=True),
    )
