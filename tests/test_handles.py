"""Handles and hashtags are checked and normalised before any request is made."""

import pytest

from bot.texts import explain
from core.errors import LikepredictError
from core.tags import normalize_tag, tag_set
from scraping.errors import InvalidHandle, InvalidTag
from scraping.handles import normalize_handle, parse_tag


@pytest.mark.parametrize(
    "text, handle",
    [
        ("demo_creator", "demo_creator"),
        ("@Demo_Creator", "demo_creator"),
        ("  @some.one_2  ", "some.one_2"),
        ("https://www.instagram.com/Some.One/", "some.one"),
        ("https://instagram.com/someone?hl=en", "someone"),
        ("instagram.com/someone/", "someone"),
        ("http://m.instagram.com/someone/reels/", "someone"),
        ("https://www.instagram.com/someone/reels/", "someone"),
        ("https://instagram.com/_u/Some.One", "some.one"),
        ("instagram.com/_u/someone/", "someone"),
        ("https://www.instagram.com/someone?igsh=MWx2dGZ4bXZ0cWE5Nw==", "someone"),
        ("https://www.instagram.com/someone/?igsh=MWx2dGZ4bXZ0cWE5Nw%3D%3D&utm_source=qr", "someone"),
        ("a" * 30, "a" * 30),
    ],
)
def test_accepted_forms_normalise_to_the_bare_lowercase_username(text, handle):
    assert normalize_handle(text) == handle


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "@",
        "a" * 31,
        "two words",
        "emoji😀",
        "semi;colon",
        "double..dot",
        ".leading",
        "trailing.",
        "https://example.com/someone/",
        "https://www.instagram.com/",
        "https://www.instagram.com/p/CxYz123/",
        "https://www.instagram.com/explore/tags/sunset/",
        "https://instagram.com/_u/",
        "https://www.instagram.com/_u/p/CxYz123/",
    ],
)
def test_impossible_usernames_are_refused_with_a_plain_message(text):
    with pytest.raises(InvalidHandle) as caught:
        normalize_handle(text)
    assert isinstance(caught.value, LikepredictError)
    assert "not an Instagram username" in explain(caught.value)


def test_an_overlong_username_says_why():
    with pytest.raises(InvalidHandle) as caught:
        normalize_handle("x" * 31)
    assert "longer than 30" in explain(caught.value)


def test_a_post_link_says_it_is_not_a_profile():
    with pytest.raises(InvalidHandle) as caught:
        normalize_handle("https://www.instagram.com/p/CxYz123/?igsh=abc")
    assert "a post or a page, not a profile" in explain(caught.value)


@pytest.mark.parametrize("text, tag", [("#Sunset", "sunset"), ("sunset", "sunset"), (" #été ", "été"), ("a_1", "a_1")])
def test_hashtags_lose_the_hash_and_case(text, tag):
    assert parse_tag(text) == tag


@pytest.mark.parametrize("text", ["", "#", "two words", "#semi;colon", "a-b"])
def test_impossible_hashtags_are_refused(text):
    with pytest.raises(InvalidTag):
        parse_tag(text)


def test_a_posts_tags_are_one_set_in_one_spelling_without_empty_ones():
    assert normalize_tag(" #Beach ") == "beach"
    assert tag_set(["#Beach", "beach ", "", "#", "Sunset"]) == {"beach", "sunset"}
