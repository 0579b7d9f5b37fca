"""The email templates: subjects, both parts, and HTML that is readable and accessible."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest

from app.mail.rendering import SUBJECT_PREFIX, render_email
from tests.mail.conftest import EXAMPLES

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "mail" / "templates" / "mail"


class Outline(HTMLParser):
    """What the checks need from an HTML part: lang, title, headings, links, images, colours."""

    def __init__(self) -> None:
        super().__init__()
        self.html_lang: str | None = None
        self.title = ""
        self.h1: list[str] = []
        self.links: list[tuple[str, str]] = []
        self.images = 0
        self.styles: list[str] = []
        self._open: list[str] = []
        self._href = ""
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.html_lang = attributes.get("lang")
        if tag == "img":
            self.images += 1
        if attributes.get("style"):
            self.styles.append(attributes["style"] or "")
        if tag in {"title", "h1", "a"}:
            self._open.append(tag)
            self._text = ""
            self._href = attributes.get("href") or ""

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()
            text = " ".join(self._text.split())
            if tag == "title":
                self.title = text
            elif tag == "h1":
                self.h1.append(text)
            else:
                self.links.append((self._href, text))

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text += data


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def luminance(hex_colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_every_email_has_a_text_and_an_html_template() -> None:
    """Does each email the accounts and reports code needs exist in both parts, and nothing else?"""
    names = {p.stem for p in TEMPLATES.glob("*.txt")} - {"base"}
    assert names == set(EXAMPLES)
    for name in names:
        assert (TEMPLATES / f"{name}.html").exists(), name


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_subject_is_prefixed_and_on_one_line(name: str) -> None:
    """Does every subject start with "TellUs Coventry: " and fit on one header line?"""
    subject = render_email(name, **EXAMPLES[name]).subject
    assert subject.startswith(SUBJECT_PREFIX)
    assert len(subject) > len(SUBJECT_PREFIX) + 5
    assert "\n" not in subject and "  " not in subject


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_html_part_has_lang_title_heading_and_meaningful_links(name: str) -> None:
    """Does the HTML part declare English, carry the subject as its title, and use links
    whose text says where they go?"""
    rendered = render_email(name, **EXAMPLES[name])
    page = outline(rendered.html)
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert page.html_lang == "en"
    assert page.title == rendered.subject
    assert len(page.h1) == 1 and page.h1[0]
    assert page.images == 0
    assert page.links, "every email has an action"
    for href, text in page.links:
        assert href.startswith("http"), href
        assert text and not text.startswith("http"), f"link text {text!r} does not describe the link"
        assert text.lower() not in {"click here", "here", "link", "this link"}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_html_colours_have_enough_contrast(name: str) -> None:
    """Is every text colour in the HTML part at least 4.5:1 against its background (WCAG AA)?"""
    html = render_email(name, **EXAMPLES[name]).html
    checked = 0
    for style in outline(html).styles:
        colour = re.search(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", style)
        if not colour:
            continue
        background = re.search(r"background-color:\s*(#[0-9a-fA-F]{6})", style)
        ratio = contrast(colour.group(1), background.group(1) if background else "#ffffff")
        assert ratio >= 4.5, f"{style}: {ratio:.2f}:1"
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_text_part_is_plain_and_carries_the_link(name: str) -> None:
    """Does the plain-text part hold the whole link on a line of its own, with no HTML and short lines?"""
    context = EXAMPLES[name]
    text = render_email(name, **context).text
    url = next(v for k, v in context.items() if k.endswith("_url"))
    assert url in text.splitlines()
    assert "<" not in text and "&amp;" not in text
    assert all(len(line) <= 72 for line in text.splitlines() if line != url)
    assert "\n\n\n" not in text


def test_user_text_is_escaped_in_html_but_not_in_text() -> None:
    """Is text from users (a report title) escaped in the HTML part and left alone in the plain one?"""
    context = {**EXAMPLES["confirm_report"], "report_title": 'Bins & <script>alert("x")</script>'}
    rendered = render_email("confirm_report", **context)
    assert "<script>" not in rendered.html
    assert "Bins &amp; &lt;script&gt;" in rendered.html
    assert 'Bins & <script>alert("x")</script>' in rendered.text


def test_a_subject_cannot_carry_a_new_line() -> None:
    """Can a name with a line break in it never split the Subject header?"""
    context = {**EXAMPLES["invitation"], "inviter_name": "Alex\r\nBcc: victim@example.org"}
    subject = render_email("invitation", **context).subject
    assert "\n" not in subject and "\r" not in subject


def test_invitation_expiry_reads_naturally() -> None:
    """Does 72 hours read as "3 days" and 1 hour as "1 hour"?"""
    assert "expires in 3 days" in render_email("invitation", **EXAMPLES["invitation"]).text
    reset = render_email("reset_password", **{**EXAMPLES["reset_password"], "expires_hours": 1})
    assert "expires in 1 hour." in reset.text


def test_a_missing_variable_is_an_error_not_a_blank() -> None:
    """Does rendering without a variable the template uses fail, instead of sending an empty link?"""
    with pytest.raises(jinja2.UndefinedError):
        render_email("reset_password", name="Sam", expires_hours=2)


def test_an_unknown_email_is_an_error() -> None:
    """Does asking for an email that has no template fail clearly?"""
    with pytest.raises(jinja2.TemplateNotFound):
        render_email("welcome_aboard")
