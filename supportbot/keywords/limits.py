"""Size limits on a keyword configuration, checked before and after YAML composes it.

A configuration is small; these bounds keep a hostile or mistaken one from costing
memory or time in every process that loads it (the admin page, the CLI, each worker).
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import yaml

MAX_BYTES = 256 * 1024
MAX_KEYWORDS = 5000
# nodes after expanding anchors and aliases: far above any real file, far below a bomb
MAX_EXPANDED_NODES = 100_000
# Twilio refuses a <Message> (or a Body) over 1,600 characters (errors 21617, 14103):
# a reply that long would leave every text it answers unanswered
MAX_REPLY = 1600
# room kept for a ticket field when a reply is measured: refs, Jira keys and status names are short
TICKET_FIELD_ROOM = 40


# characters XML 1.0 cannot carry at all, not even as &#...; (tab, newline and CR it can):
# one of them in a reply makes the whole TwiML answer unreadable to Twilio (12100)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def reply_problem(template: str | None, program: str, help_contact: str, what: str) -> str | None:
    """Why Twilio could not send a validated template once filled in: too long, or unreadable TwiML."""
    if template is None:
        return None
    room = "x" * TICKET_FIELD_ROOM
    ticket = SimpleNamespace(ref=room, key=room, status=room)
    filled = template.format_map({"program": program, "help_contact": help_contact, "ticket": ticket})
    if len(filled) > MAX_REPLY:
        return f"{what} has {len(filled):,} characters filled in; Twilio sends at most {MAX_REPLY:,}"
    bad = _NOT_XML.search(filled)
    if bad:
        return f"{what} holds the control character U+{ord(bad.group()):04X}, which TwiML cannot carry"
    return None


def size_problem(text: str, source: str) -> str | None:
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        return f"{source}:1: the configuration is {size:,} bytes; the limit is {MAX_BYTES:,} (256 KiB)"
    return None


def expansion_problem(root: yaml.Node, source: str) -> str | None:
    """Count nodes as a loader would see them, without expanding: aliases reuse nodes."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    # an explicit stack: a deep document must not hit Python's recursion limit
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            total = 1 + sum(sizes[id(c)] for c in _children(node))
            if total > MAX_EXPANDED_NODES:
                line = node.start_mark.line + 1
                return f"{source}:{line}: anchors and aliases expand to over {MAX_EXPANDED_NODES:,} nodes"
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in active:
            return f"{source}:{node.start_mark.line + 1}: an alias refers to itself (a recursive anchor)"
        active.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def count_problem(count: int, source: str) -> str | None:
    if count > MAX_KEYWORDS:
        return f"{source}:1: {count:,} keywords; the limit is {MAX_KEYWORDS:,}"
    return None
