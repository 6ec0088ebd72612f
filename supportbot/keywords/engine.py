"""Routing a text to a keyword route, and rendering replies. No I/O here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import SimpleNamespace

from supportbot.keywords.normalise import normalise, strip_trailing_punctuation
from supportbot.keywords.schema import KeywordConfig, Route

# Twilio's Advanced Opt-Out names the class of keyword it matched
OPT_OUT_TYPES = {"STOP": "opt_out", "START": "opt_in", "HELP": "help"}

_REF = re.compile(r"^(?:SB-?)?(\d{1,12})$")
MAX_TICKET_ID = 2**31 - 1  # tickets.id is a Postgres integer
_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,30}-\d{1,12}$")


@dataclass(frozen=True)
class Match:
    route: Route
    args: tuple[str, ...] = ()
    word: str | None = None  # the keyword as the sender wrote it, normalised


@dataclass(frozen=True)
class TicketArg:
    """A ticket named in a text: our ref number or a Jira key."""

    ref_id: int | None = None
    jira_key: str | None = None


def route(config: KeywordConfig, body: str, opt_out_type: str | None = None) -> Match:
    """The route for a text: Twilio's OptOutType first, then exact, first word, default."""
    norm = normalise(body)
    if opt_out_type:
        action = OPT_OUT_TYPES.get(opt_out_type.strip().upper())
        if action:
            hit = config.exact.get(norm)
            if hit is not None and hit.action == action:
                return Match(hit, (), norm)
            return Match(_route_for_action(config, action), (), norm or None)
    hit = config.exact.get(norm)
    if hit is not None:
        return Match(hit, (), norm)
    first, _, rest = norm.partition(" ")
    first = strip_trailing_punctuation(first)
    hit = config.first_word.get(first)
    if hit is not None:
        return Match(hit, tuple(rest.split()), first)
    return Match(config.default)


def _route_for_action(config: KeywordConfig, action: str) -> Route:
    # the validator guarantees STOP, START and HELP exist with these actions
    word = {"opt_out": "STOP", "opt_in": "START", "help": "HELP"}[action]
    return config.exact[word]


def parse_ticket_arg(args: tuple[str, ...]) -> TicketArg | None:
    """'SB-12', '#sb-12', '12' name our ticket 12; 'SUP-7' names a Jira key."""
    if not args:
        return None
    token = strip_trailing_punctuation(args[0].upper()).lstrip("#")
    m = _REF.match(token)
    if m:
        ref_id = int(m.group(1))
        # no ticket has an id past the column's range; asking Postgres would fail the webhook
        return TicketArg(ref_id=ref_id) if ref_id <= MAX_TICKET_ID else None
    if _KEY.match(token):
        return TicketArg(jira_key=token)
    return None


def render(template: str | None, config: KeywordConfig, ticket: SimpleNamespace | None = None) -> str | None:
    """Fill a validated template; fields were checked at load time."""
    if template is None:
        return None
    fields: dict[str, object] = {"program": config.program, "help_contact": config.help_contact}
    if ticket is not None:
        fields["ticket"] = ticket
    return template.format_map(fields)


def ticket_fields(ref: str, key: str | None, status: str) -> SimpleNamespace:
    return SimpleNamespace(ref=ref, key=key or ref, status=status)
