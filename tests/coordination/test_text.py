"""Cleaning what people type into cases, finding @mentions in it, giving people handles, and
showing stored text safely as paragraphs."""

from __future__ import annotations

import unicodedata

import pytest

from app.accounts.models import User
from app.coordination import text
from app.coordination.errors import CoordinationError
from app.coordination.models import BODY_MAX
from app.templating import paragraphs


def clean(value: str | None) -> str:
    return text.clean(value, field="body", empty="Write something.")


def test_control_characters_are_dropped_but_newlines_and_tabs_kept() -> None:
    """Are NUL, escape sequences and other control characters removed, and newlines and tabs kept?"""
    typed = "Bins\x00 not\x1b[31m emptied\x07\n\tsince\x7f Monday\x85again"
    assert clean(typed) == "Bins not[31m emptied\n\tsince Monday\nagain"


def test_line_endings_are_normalised() -> None:
    """Do Windows, old Mac and Unicode line and paragraph separators all become one newline?"""
    assert clean("a\r\nb\rc\u2028d\u2029e") == "a\nb\nc\nd\ne"


def test_text_is_trimmed_and_whitespace_alone_is_refused() -> None:
    """Is surrounding whitespace trimmed, and is text of only whitespace and control characters refused?"""
    assert clean("  \n Fixed today. \n\n ") == "Fixed today."
    for blank in ("", None, "   ", "\n\n\t", "\x00\x01 \r\n"):
        with pytest.raises(CoordinationError) as refused:
            clean(blank)
        assert refused.value.errors == {"body": "Write something."}


def test_text_is_nfc_normalised_before_it_is_counted() -> None:
    """Is "é" typed as e plus a combining accent stored as one character, and counted as one?"""
    decomposed = "Cafe\u0301 bins"
    assert len(decomposed) == 10
    cleaned = clean(decomposed)
    assert cleaned == "Café bins" and len(cleaned) == 9 and unicodedata.is_normalized("NFC", cleaned)
    # At the limit once normalised, though longer as typed.
    assert clean("e\u0301" * BODY_MAX) == "é" * BODY_MAX


def test_text_over_the_limit_is_refused_saying_by_how_much() -> None:
    """Is text over BODY_MAX characters refused with how many to remove, and text at the limit accepted?"""
    assert clean("x" * BODY_MAX) == "x" * BODY_MAX
    with pytest.raises(CoordinationError) as refused:
        clean("x" * (BODY_MAX + 3))
    assert refused.value.errors["body"] == "Write 5,000 characters or fewer: this has 5,003, so remove 3."


def test_mentions_are_found_once_each_ignoring_case() -> None:
    """Are @handles found in order, lower-cased, each once, without trailing punctuation?"""
    body = "Thanks @Sam.Jones, and @ali-2: can you check? Also @sam.jones. (@kim_o)"
    assert text.mentioned_handles(body) == ["sam.jones", "ali-2", "kim_o"]


def test_an_email_address_is_not_a_mention() -> None:
    """Is the "@" inside an email address (or a bare "@") not taken for a mention?"""
    body = "Write to sam.jones@example.org or j+x@coventry.gov.uk; meet @ 5pm; price@2 each"
    assert text.mentioned_handles(body) == []
    assert text.mentioned_handles("email:@sam") == ["sam"]


def person(user_id: int, name: str) -> User:
    return User(id=user_id, email=f"u{user_id}@example.org", display_name=name)


def test_handles_come_from_names_without_accents_or_punctuation() -> None:
    """Is a handle the name in lower case, accents removed, other characters as single dots?"""
    assert text.handle_base(person(1, "Siân O'Neil")) == "sian.o.neil"
    assert text.handle_base(person(2, "  DR. Amara   Okafor-Smith ")) == "dr.amara.okafor.smith"
    assert text.handle_base(person(3, "李雷")) == "user.3"


def test_handles_are_unique_within_a_case_and_stable_as_people_join() -> None:
    """Do two people with one name get "-2" in account order, so a newcomer never takes an
    existing handle?"""
    first, second = person(5, "Sam Jones"), person(9, "Sam Jones")
    assert text.assign_handles([second, first]) == {"sam.jones": first, "sam.jones-2": second}
    newcomer = person(12, "Sam Jones")
    handles = text.assign_handles([newcomer, first, second, first])
    assert handles == {"sam.jones": first, "sam.jones-2": second, "sam.jones-3": newcomer}
    # Every handle can be mentioned.
    assert all(text.mentioned_handles(f"@{h}") == [h] for h in handles)


def test_paragraphs_escape_and_keep_line_breaks() -> None:
    """Does stored text show as escaped paragraphs, with single newlines as line breaks?"""
    shown = str(paragraphs('<script>alert("x")</script>\nline two\n\n \n\nsecond & last'))
    assert shown == (
        '<p class="govuk-body">&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;<br>\nline two</p>'
        '<p class="govuk-body">second &amp; last</p>'
    )
    assert str(paragraphs("")) == ""
