"""The keyword engine: validation, matching and argument parsing (pure, no app)."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportbot.keywords import engine, versions
from supportbot.keywords.schema import KeywordConfigError, parse

ROOT = Path(__file__).resolve().parent.parent
GOOD = (ROOT / "keywords.yaml").read_text()


def config():
    return parse(GOOD, "keywords.yaml")


def refused(text: str) -> list[str]:
    with pytest.raises(KeywordConfigError) as info:
        parse(text, "k.yaml")
    return info.value.problems


def with_extra(entry: str) -> str:
    """The good file with one more keyword entry appended to the list."""
    return GOOD.replace("default:\n", entry + "default:\n")


def line_of(text: str, needle: str) -> int:
    return text.splitlines().index(next(x for x in text.splitlines() if needle in x)) + 1


def test_the_shipped_files_are_valid():
    c = config()
    assert c.program == "Acme Support" and c.agents == {"+14155550100"}
    assert "YES" in c.exact and c.exact["YES"].action == "opt_in"
    parse((ROOT / "supportbot" / "default_keywords.yaml").read_text())


@pytest.mark.parametrize(
    ("entry", "needle", "reason"),
    [
        ("  - keyword: FOO\n    action: dance\n", "action: dance", "unknown action 'dance'"),
        ("  - keyword: FOO\n    action: reply\n    colour: red\n", "colour: red", "unknown field 'colour'"),
        (
            "  - keyword: YES\n    action: reply\n",
            "keyword: YES",
            "keyword must be a string, got 'YES' (quote it)",
        ),
        ("  - keyword: 12\n    action: reply\n", "keyword: 12", "keyword must be a string, got '12'"),
        ("  - keyword: Hours\n    action: reply\n", "keyword: Hours", "keyword HOURS is claimed twice"),
        (
            "  - keyword: ZIP\n    action: reply\n    reply: 'hi {name}'\n",
            "reply: 'hi {name}'",
            "names unknown field {name}",
        ),
        (
            "  - keyword: ZIP\n    action: reply\n    reply: 'ref {ticket.ref}'\n",
            "reply: 'ref {ticket",
            "names unknown field {ticket.ref}",
        ),
        (
            "  - keyword: UNSUBSCRIBE2\n    aliases: [STOPALL]\n    action: reply\n",
            "UNSUBSCRIBE2",
            "STOPALL means STOP",
        ),
        (
            "  - keyword: HALT\n    action: opt_out\n    match: first_word  # halt\n",
            "# halt",
            "opt_out must match exact",
        ),
        (
            "  - keyword: ZIP\n    action: reply\n    reply: 'bad {'\n",
            "reply: 'bad {'",
            "is not a valid template",
        ),
    ],
)
def test_a_bad_entry_is_refused_with_its_line_and_reason(entry, needle, reason):
    text = with_extra(entry)
    problems = refused(text)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"k.yaml:{line_of(text, needle)}: ")
    assert reason in problems[0]


def test_yaml_unquoted_yes_alias_is_refused():
    text = GOOD.replace('aliases: [UNSTOP, "YES"]', "aliases: [UNSTOP, YES]")
    (problem,) = refused(text)
    assert problem.startswith(f"k.yaml:{line_of(text, 'aliases: [UNSTOP, YES]')}:")
    assert "must be a string, got 'YES'" in problem


def test_a_custom_keyword_cannot_take_stop():
    text = GOOD.replace("  - keyword: HOURS\n", "  - keyword: stop\n")
    problems = refused(text)
    assert any("STOP means STOP to Twilio" in p for p in problems)


def test_stop_start_and_help_must_exist():
    text = GOOD.replace(
        "  - keyword: HELP\n    aliases: [INFO]\n    match: exact\n    action: help\n",
        "  - keyword: SOS\n    match: exact\n    action: help\n",
    )
    assert any("HELP must be a keyword with action help" in p for p in refused(text))


def test_not_yaml_and_empty_files_are_refused():
    assert refused("program: [unclosed\n")[0].startswith("k.yaml:")
    assert refused("") == ["k.yaml:1: the file is empty"]


def test_several_problems_are_all_reported():
    text = with_extra("  - keyword: A1\n    action: nope\n  - keyword: A2\n    action: reply\n    x: 1\n")
    assert len(refused(text)) == 2


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("STOP", "opt_out"),
        ("stop", "opt_out"),
        ("  Stop!  ", "opt_out"),
        ("ＳＴＯＰ", "opt_out"),  # fullwidth letters: NFKC
        ("stop please", "ticket"),  # opt-out needs the whole message, as Twilio
        ("unsubscribe.", "opt_out"),
        ("yes", "opt_in"),
        ("hours?", "reply"),
        ("what are your hours", "ticket"),
        ("status sb-12", "ticket_status"),
        ("STATUS: SB-12", "ticket_status"),
        ("status", "ticket_status"),
        ("statuses of my order", "ticket"),
        ("", "ticket"),
        ("ack 5", "ack"),
    ],
)
def test_matching(text, action):
    assert engine.route(config(), text).route.action == action


@pytest.mark.parametrize(
    ("opt_out_type", "action"),
    [("STOP", "opt_out"), ("START", "opt_in"), ("HELP", "help"), ("stop", "opt_out")],
)
def test_twilio_opt_out_type_decides_over_the_text(opt_out_type, action):
    """Twilio's Advanced Opt-Out may match words the file does not know."""
    assert engine.route(config(), "ARRET", opt_out_type).route.action == action


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("SB-12",), engine.TicketArg(ref_id=12)),
        (("sb-12",), engine.TicketArg(ref_id=12)),
        (("#SB-12",), engine.TicketArg(ref_id=12)),
        (("12",), engine.TicketArg(ref_id=12)),
        (("#12.",), engine.TicketArg(ref_id=12)),
        (("SB12",), engine.TicketArg(ref_id=12)),
        (("SUP-7",), engine.TicketArg(jira_key="SUP-7")),
        (("hello",), None),
        ((), None),
    ],
)
def test_ticket_arguments(args, expected):
    assert engine.parse_ticket_arg(tuple(a.upper() for a in args)) == expected


def test_routing_is_a_lookup_not_a_scan():
    """Thousands of keywords: the route comes from the two dicts, not from walking routes."""
    extra = "".join(f"  - keyword: K{i}\n    action: reply\n    reply: 'r{i}'\n" for i in range(3000))
    big = parse(with_extra(extra))
    assert len(big.exact) > 3000
    assert engine.route(big, "k2999").route.reply == "r2999"
    object.__setattr__(big, "routes", ())  # routing must not need the list at all
    assert engine.route(big, "k1500").route.reply == "r1500"


def test_a_bad_seed_file_leaves_the_built_in_default_in_force(make_app, tmp_path):
    """On an empty database a refused KEYWORDS_FILE is not imported; the built-in default answers."""
    (tmp_path / "keywords.yaml").write_text("program: [")
    app = make_app()
    with app.app_context():
        store = app.extensions["keywords"]
        assert store.get().exact["STOP"].action == "opt_out"
        assert store.version_id is None and "KEYWORDS_FILE was refused" in store.error


def test_the_database_is_asked_once_per_poll_interval(make_app):
    app = make_app(KEYWORDS_POLL_SECONDS=3600)
    with app.app_context():
        store = app.extensions["keywords"]
        assert store.get().program == "Acme Support" and store.version_id == 1
        versions.publish(GOOD.replace("Acme Support", "Beta Help"), "t", "c", base_id=1)
        assert store.get().program == "Acme Support"  # not asked again yet
