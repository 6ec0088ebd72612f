"""The outbound pipeline's pure parts: segments, splitting, delivery states, Jira comments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportbot.outbound import delivery
from supportbot.outbound import twilio_errors as errors
from supportbot.outbound.parts import MAX_SMS_CHARS, split_parts
from supportbot.outbound.segments import count_segments
from supportbot.tickets.payloads import comment_text, is_public, status_of


@pytest.mark.parametrize(
    ("text", "encoding", "segments", "units"),
    [
        # examples as Twilio's segment calculator counts them
        ("a" * 160, "GSM-7", 1, 160),
        ("a" * 161, "GSM-7", 2, 161),
        ("a" * 306, "GSM-7", 2, 306),
        ("a" * 307, "GSM-7", 3, 307),
        ("€" * 80, "GSM-7", 1, 160),  # the extension table costs two septets
        ("€" * 81, "GSM-7", 2, 162),
        ("a" * 152 + "€", "GSM-7", 1, 154),
        ("a" * 159 + "€", "GSM-7", 2, 161),  # an escape pair is never split across segments
        ("Ünïcödé? Ñö: ü is GSM, ï is not", "UCS-2", 1, 31),
        ("é" * 160, "GSM-7", 1, 160),
        ("😀" * 35, "UCS-2", 1, 70),  # an emoji is two UTF-16 units
        ("😀" * 36, "UCS-2", 2, 72),
        ("a" * 70 + "ç", "UCS-2", 2, 71),
        ("a" * 133 + "ç", "UCS-2", 2, 134),
        ("a" * 134 + "ç", "UCS-2", 3, 135),
        ("", "GSM-7", 1, 0),
    ],
)
def test_segments(text, encoding, segments, units):
    got = count_segments(text)
    assert (got.encoding, got.segments, got.units) == (encoding, segments, units)


def test_a_short_text_is_one_part():
    assert split_parts("  Hello there  ") == ["Hello there"]


def test_a_long_text_is_split_at_words_into_numbered_parts_losing_nothing():
    words = [f"word{i}" for i in range(700)]
    text = " ".join(words)
    parts = split_parts(text)
    assert len(text) == 5489 and len(parts) == 4  # 4 parts of at most 1600 characters
    assert all(len(p) <= MAX_SMS_CHARS for p in parts)
    assert [p.split(" ", 1)[0] for p in parts] == ["(1/4)", "(2/4)", "(3/4)", "(4/4)"]
    assert " ".join(p.split(" ", 1)[1] for p in parts) == text


def test_a_word_longer_than_a_part_is_cut_not_dropped():
    url = "https://example.com/" + "x" * 2000
    parts = split_parts("see " + url)
    assert all(len(p) <= MAX_SMS_CHARS for p in parts)
    assert "".join(p.split(" ", 1)[1] for p in parts).replace("see", "", 1).replace(" ", "") == url


@pytest.mark.parametrize(
    ("current", "reported", "after"),
    [
        ("sending_api", "queued", "queued"),
        ("queued", "sent", "sent"),
        ("sent", "queued", "sent"),  # late and out of order: ignored
        ("delivered", "sent", "delivered"),
        ("undelivered", "sent", "undelivered"),  # final
        ("undelivered", "delivered", "undelivered"),
        ("sent", "failed", "failed"),
        ("queued", "delivered", "delivered"),
        ("delivered", "read", "read"),
    ],
)
def test_status_only_moves_forward(current, reported, after):
    assert delivery.advance(current, reported) == after


def final_of(callbacks):
    status = "sending_api"
    for c in callbacks:
        status = delivery.advance(status, c)
    return status


@given(
    outcome=st.sampled_from(["delivered", "undelivered", "failed"]),
    extra=st.lists(st.sampled_from(["queued", "sending", "sent"]), max_size=6),
    data=st.data(),
)
def test_any_order_and_any_duplicates_give_the_same_final_state(outcome, extra, data):
    base = ["queued", "sent", outcome]
    shuffled = data.draw(st.permutations(base + extra + base[: data.draw(st.integers(0, 3))]))
    assert final_of(shuffled) == outcome


def test_error_codes_are_classified():
    assert errors.lookup(21610).action == errors.OPTED_OUT
    for code in (21211, 21612, 21408, 21614, 21606):
        assert errors.lookup(code).action == errors.FINAL
    for code in (20429, 21611):
        assert errors.lookup(code).action == errors.RETRY
    assert errors.lookup(None, 429).action == errors.RETRY
    # Twilio failed while handling the request: it may have queued the message first
    assert errors.lookup(None, 503).action == errors.MAYBE_SENT
    assert errors.lookup(20500, 500).action == errors.MAYBE_SENT
    assert errors.lookup(30003).meaning.startswith("Unreachable destination handset")


ADF = {
    "type": "doc",
    "version": 1,
    "content": [
        {
            "type": "paragraph",
            "content": [{"type": "text", "text": "Hi "}, {"type": "mention", "attrs": {"text": "@Sam"}}],
        },
        {
            "type": "paragraph",
            "content": [
                {"type": "text", "text": "line one"},
                {"type": "hardBreak"},
                {"type": "text", "text": "line two"},
            ],
        },
        {
            "type": "bulletList",
            "content": [
                {
                    "type": "listItem",
                    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "restart"}]}],
                },
                {
                    "type": "listItem",
                    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "call us"}]}],
                },
            ],
        },
    ],
}


def test_comment_bodies_as_strings_or_atlassian_documents():
    assert comment_text("  plain text  ") == "plain text"
    assert comment_text(ADF) == "Hi @Sam\nline one\nline two\n- restart\n- call us"
    assert comment_text(None) == ""


@pytest.mark.parametrize(
    ("comment", "project_type", "public"),
    [
        ({}, "software", True),
        ({"visibility": {"type": "role", "value": "Developers"}}, "software", False),
        ({"jsdPublic": False}, "software", False),
        ({"jsdPublic": True}, "service_desk", True),
        ({}, "service_desk", False),  # a missing jsdPublic on a service desk counts as internal
        ({"jsdPublic": True, "visibility": {"type": "group", "value": "x"}}, "service_desk", False),
    ],
)
def test_which_comments_reach_the_customer(comment, project_type, public):
    issue = {"fields": {"project": {"projectTypeKey": project_type}}}
    assert is_public(comment, issue) is public


def test_issue_status_from_a_webhook():
    assert status_of({"status": {"name": "Done", "statusCategory": {"key": "done"}}}) == ("Done", True)
    assert status_of({}) == ("Open", False)
