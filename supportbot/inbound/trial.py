"""Try a text against a keyword config: the route, the reply, what would happen; nothing changes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from supportbot.inbound import service
from supportbot.keywords import engine
from supportbot.keywords.schema import KeywordConfig
from supportbot.phone import normalise

# what each follow-up job would do, said for an admin
EFFECTS = {
    "create_ticket": "opens a new ticket and creates its help-desk issue",
    "comment": "adds the text to the sender's open ticket",
    "ack": "acknowledges the ticket for the agent",
}
ACTION_EFFECTS = {
    "opt_out": "records an opt-out: nothing more is sent to this number until START",
    "opt_in": "records an opt-in",
    "help": "answers with the help text",
    "reply": "answers with the reply",
    "ticket_status": "answers with the ticket's status (only the sender's own tickets)",
}


@dataclass(frozen=True)
class TryOutcome:
    sender: str
    route: str
    reply: str | None
    effects: tuple[str, ...]


def try_text(config: KeywordConfig, text: str, sender: str) -> TryOutcome:
    """Run the real inbound path in a transaction that is rolled back."""
    form = MultiDict([("MessageSid", "SMtry" + uuid.uuid4().hex), ("From", sender), ("Body", text)])
    result = service.handle(form, b"", config, commit=False)
    match = engine.route(config, text)
    route = f"{match.route.keyword} -> {match.route.action}" + (f" {list(match.args)}" if match.args else "")
    effects = [EFFECTS.get(kind, kind) for _, kind in result.outbox]
    if not effects and match.route.action in ACTION_EFFECTS:
        effects.append(ACTION_EFFECTS[match.route.action])
    if result.reply is None:
        effects.append("answers with empty TwiML (Twilio answers this keyword itself, or nothing to say)")
    number = normalise(sender)
    return TryOutcome(sender=number, route=route, reply=result.reply, effects=tuple(effects))
