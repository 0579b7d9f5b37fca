"""The password rules and hashing (pure functions, production cost)."""

from __future__ import annotations

import pytest

from app.accounts.passwords import hash_password, password_problems, verify_password


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "at least 8 characters"),
        ("password", "too common"),
        ("iloveyou1", "too common"),
        ("Qwerty123", "too common"),
        ("x" * 1025, "1024 characters or fewer"),
        ("person@example.org", "must not be your email"),
        ("person12", "must not be your email"),
    ],
)
def test_bad_passwords_are_explained(password: str, problem: str) -> None:
    """Is each weak password refused with a reason?"""
    problems = password_problems(
        password, email="person12@example.org" if password == "person12" else "person@example.org"
    )
    assert problems and problem in problems[0]


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "ab3$ef7!", "only lowercase letters here", "😀" * 8]
)
def test_no_composition_rules(password: str) -> None:
    """Are long or unusual passwords accepted with no rules about character kinds?"""
    assert password_problems(password, email="someone@example.org") == []


def test_hash_is_argon2id_and_verifies_without_truncation() -> None:
    """Is the hash argon2id, and does a 1,000-character password differ from its 999-character prefix?"""
    long_password = "a" * 999 + "b"
    hashed = hash_password(long_password)
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3")
    assert verify_password(hashed, long_password)
    assert not verify_password(hashed, "a" * 999)
    assert not verify_password(None, long_password)
    assert not verify_password("not a hash", long_password)
