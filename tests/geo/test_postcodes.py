"""Postcode normalisation (pure) and lookup against the Code-Point Open data."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.geography.services import lookup_postcode
from geo.errors import InvalidPostcode, UnknownPostcode
from geo.postcodes import normalise_postcode, outward_code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CV1 5RR", "CV1 5RR"),
        ("cv15rr", "CV1 5RR"),
        ("  cv1   5rr ", "CV1 5RR"),
        ("Cv1\t5Rr", "CV1 5RR"),
        ("cv31bd", "CV3 1BD"),
        ("SW1A 1AA", "SW1A 1AA"),
        ("b11aa", "B1 1AA"),
        ("EC1A1BB", "EC1A 1BB"),
    ],
)
def test_spacing_and_case_do_not_matter(raw: str, expected: str) -> None:
    """Is any spacing or case of a postcode normalised to its published form?"""
    assert normalise_postcode(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter a postcode"),
        (None, "Enter a postcode"),
        ("   ", "Enter a postcode"),
        ("CV1", "real postcode"),
        ("12345", "real postcode"),
        ("CV1 5RRR", "real postcode"),
        ("<script>", "real postcode"),
    ],
)
def test_malformed_postcodes_are_refused(raw: str | None, message: str) -> None:
    """Is a blank or malformed postcode refused with a message saying what to enter?"""
    with pytest.raises(InvalidPostcode, match=message):
        normalise_postcode(raw)


def test_outward_code() -> None:
    """Is the outward code the part before the space?"""
    assert outward_code("CV1 5RR") == "CV1"


def test_lookup_finds_a_coventry_postcode_whatever_its_form(db_session: Session) -> None:
    """Does ' cv1 5rr ' find the Council House postcode and its ward?"""
    match = lookup_postcode(db_session, " cv1 5rr ")
    assert match.postcode == "CV1 5RR"
    assert match.ward_code == "E05001228"
    assert match.point.lat == pytest.approx(52.4075, abs=0.001)


def test_unknown_postcode_in_a_coventry_area_says_so(db_session: Session) -> None:
    """Is an unknown CV1 postcode reported as not found, with a way forward?"""
    with pytest.raises(UnknownPostcode, match="We cannot find CV1 0ZZ"):
        lookup_postcode(db_session, "cv1 0zz")


def test_non_coventry_postcode_is_refused_in_plain_words(db_session: Session) -> None:
    """Is a Birmingham postcode refused as not a Coventry postcode?"""
    with pytest.raises(UnknownPostcode, match="B1 1AA is not a Coventry postcode"):
        lookup_postcode(db_session, "B1 1AA")
