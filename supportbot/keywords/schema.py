"""keywords.yaml: load and validate into an immutable KeywordConfig.

We walk PyYAML's node tree instead of the loaded dict: only nodes keep line
numbers, show duplicate keys, and tell a quoted "YES" from YAML 1.1's boolean.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from supportbot.keywords import limits
from supportbot.keywords.normalise import normalise
from supportbot.phone import normalise as normalise_phone

STR = "tag:yaml.org,2002:str"
BOOL = "tag:yaml.org,2002:bool"

# the fixed action registry: each action and the template fields its reply may use
BASE_FIELDS = frozenset({"program", "help_contact"})
TICKET_FIELDS = BASE_FIELDS | {"ticket.ref", "ticket.key", "ticket.status"}
ACTIONS: dict[str, frozenset[str]] = {
    "reply": BASE_FIELDS,
    "opt_out": BASE_FIELDS,
    "opt_in": BASE_FIELDS,
    "help": BASE_FIELDS,
    "ticket": TICKET_FIELDS,
    "ticket_status": TICKET_FIELDS,
    "ack": TICKET_FIELDS,
}
DEFAULT_ACTIONS = ("ticket", "reply")
CONSENT_ACTIONS = ("opt_out", "opt_in", "help")

# Twilio's standard keywords (default and advanced opt-out): these words mean
# STOP, START and HELP to the carrier whatever the file says, so only the
# matching action may claim them
RESERVED = {
    "opt_out": frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}),
    "opt_in": frozenset({"START", "YES", "UNSTOP"}),
    "help": frozenset({"HELP", "INFO"}),
}
REQUIRED_WORD = {"opt_out": "STOP", "opt_in": "START", "help": "HELP"}

TOP_FIELDS = {"program", "help_contact", "twilio_answers_keywords", "agents", "keywords", "default"}
ROUTE_FIELDS = {"keyword", "aliases", "match", "action", "reply", "args", "usage", "allow"}
DEFAULT_FIELDS = {"action", "reply"}
MATCHES = ("exact", "first_word")
ARGS = ("ticket",)


class KeywordConfigError(ValueError):
    """The file was refused; each problem reads 'FILE:LINE: reason'."""

    def __init__(self, problems: list[str]):
        super().__init__(problems[0] if len(problems) == 1 else "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Route:
    keyword: str
    action: str
    match: str = "exact"
    aliases: tuple[str, ...] = ()
    reply: str | None = None
    args: tuple[str, ...] = ()
    usage: str | None = None
    allow: str = "everyone"
    line: int = 0


@dataclass(frozen=True)
class KeywordConfig:
    program: str
    help_contact: str
    twilio_answers_keywords: bool
    agents: frozenset[str]
    routes: tuple[Route, ...]
    default: Route
    # normalised word -> route: routing is two dict lookups, whatever the count
    exact: dict[str, Route] = field(default_factory=dict)
    first_word: dict[str, Route] = field(default_factory=dict)
    source: str = ""


class _Checker:
    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []

    def fail(self, node: yaml.Node | None, reason: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(f"{self.source}:{line}: {reason}")

    def mapping(self, node: yaml.Node, allowed: set[str], what: str) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{what} must be a mapping")
            return {}
        out: dict[str, yaml.Node] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else None
            if name not in allowed:
                self.fail(key, f"unknown field {name!r} in {what}")
            elif name in out:
                self.fail(key, f"field {name!r} is given twice in {what}")
            else:
                out[name] = value
        return out

    def text(self, node: yaml.Node | None, what: str, required: bool = False) -> str | None:
        if node is None:
            if required:
                self.problems.append(f"{self.source}:1: {what} is required")
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag != STR:
            shown = node.value if isinstance(node, yaml.ScalarNode) else "a list or mapping"
            self.fail(node, f"{what} must be a string, got {shown!r} (quote it)")
            return None
        return node.value

    def texts(self, node: yaml.Node | None, what: str) -> list[tuple[str, yaml.Node]]:
        if node is None:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{what} must be a list")
            return []
        out = []
        for item in node.value:
            value = self.text(item, f"each of {what}")
            if value is not None:
                out.append((value, item))
        return out

    def flag(self, node: yaml.Node | None, what: str, default: bool) -> bool:
        if node is None:
            return default
        if not isinstance(node, yaml.ScalarNode) or node.tag != BOOL:
            self.fail(node, f"{what} must be true or false")
            return default
        return bool(yaml.constructor.SafeConstructor.bool_values[node.value.lower()])

    def template(self, node: yaml.Node | None, action: str, what: str) -> str | None:
        value = self.text(node, what)
        if value is None:
            return None
        try:
            parts = list(string.Formatter().parse(value))
        except ValueError as exc:
            self.fail(node, f"{what} is not a valid template ({exc})")
            return None
        allowed = ACTIONS.get(action, BASE_FIELDS)
        for _, name, spec, conversion in parts:
            if name is None:
                continue
            if name not in allowed or spec or conversion:
                known = ", ".join("{" + f + "}" for f in sorted(allowed))
                self.fail(node, f"{what} names unknown field {{{name}}}; {action} knows {known}")
        return value


def _route(ck: _Checker, node: yaml.Node) -> Route | None:
    fields = ck.mapping(node, ROUTE_FIELDS, "a keyword")
    keyword = ck.text(fields.get("keyword"), "keyword")
    if keyword is None:
        if "keyword" not in fields:
            ck.fail(node, "a keyword entry needs a keyword")
        return None
    action = ck.text(fields.get("action"), f"the action of {keyword}")
    if action is None:
        if "action" not in fields:
            ck.fail(node, f"keyword {keyword} needs an action")
        return None
    if action not in ACTIONS:
        ck.fail(fields["action"], f"unknown action {action!r}; known: {', '.join(ACTIONS)}")
        return None
    match = ck.text(fields.get("match"), f"the match of {keyword}") or "exact"
    if match not in MATCHES:
        ck.fail(fields["match"], f"match must be exact or first_word, got {match!r}")
    if action in ("opt_out", "opt_in") and match != "exact":
        ck.fail(fields.get("match"), f"{keyword}: {action} must match exact, as Twilio does")
    args = [a for a, _ in ck.texts(fields.get("args"), f"the args of {keyword}")]
    for a in args:
        if a not in ARGS:
            ck.fail(fields["args"], f"unknown argument {a!r} for {keyword}; known: ticket")
    if args and match != "first_word":
        ck.fail(fields["args"], f"{keyword} takes args, so it must match first_word")
    allow = ck.text(fields.get("allow"), f"the allow of {keyword}") or "everyone"
    if allow not in ("everyone", "agents"):
        ck.fail(fields["allow"], f"allow must be everyone or agents, got {allow!r}")
    return Route(
        keyword=keyword,
        action=action,
        match=match,
        aliases=tuple(a for a, _ in ck.texts(fields.get("aliases"), f"the aliases of {keyword}")),
        reply=ck.template(fields.get("reply"), action, f"the reply of {keyword}"),
        args=tuple(args),
        usage=ck.template(fields.get("usage"), "reply", f"the usage of {keyword}"),
        allow=allow,
        line=node.start_mark.line + 1,
    )


def _index(ck: _Checker, routes: list[Route]) -> tuple[dict[str, Route], dict[str, Route]]:
    exact: dict[str, Route] = {}
    first_word: dict[str, Route] = {}
    claimed: dict[str, Route] = {}
    for route in routes:
        for word in (route.keyword, *route.aliases):
            key = normalise(word)
            where = f"{ck.source}:{route.line}"
            if not key or " " in key:
                ck.problems.append(f"{where}: keyword {word!r} must be one word")
                continue
            meaning = next((a for a, words in RESERVED.items() if key in words), None)
            if meaning is not None and route.action != meaning:
                ck.problems.append(
                    f"{where}: {key} means {REQUIRED_WORD[meaning]} to Twilio and carriers, "
                    f"so it cannot be a {route.action} keyword"
                )
                continue
            if key in claimed:
                ck.problems.append(
                    f"{where}: keyword {key} is claimed twice (also at line {claimed[key].line})"
                )
                continue
            claimed[key] = route
            (exact if route.match == "exact" else first_word)[key] = route
    for action, word in REQUIRED_WORD.items():
        if claimed.get(word) is None or claimed[word].action != action:
            ck.problems.append(f"{ck.source}:1: {word} must be a keyword with action {action}")
    return exact, first_word


def _check_lengths(ck: _Checker, routes: list[Route], program: str, help_contact: str) -> None:
    """Every reply and usage, filled in, must fit in one Twilio message."""
    for route in routes:
        name = "the default" if route.keyword == "*" else route.keyword
        for what, template in (("reply", route.reply), ("usage", route.usage)):
            problem = limits.reply_problem(template, program, help_contact, f"the {what} of {name}")
            if problem:
                ck.problems.append(f"{ck.source}:{route.line}: {problem}")


def _compose(text: str, source: str) -> yaml.Node | None:
    """The YAML node tree, or KeywordConfigError saying where the YAML is broken."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        reason = getattr(exc, "problem", None) or str(exc)
        raise KeywordConfigError([f"{source}:{line}: not valid YAML: {reason}"]) from None
    except RecursionError:
        # PyYAML composes nested collections recursively: a few thousand "[" exhaust the stack
        raise KeywordConfigError([f"{source}:1: the YAML is nested too deeply"]) from None


def parse(text: str, source: str = "keywords.yaml") -> KeywordConfig:
    """Validate the text of a keyword file; raise KeywordConfigError naming every problem."""
    ck = _Checker(source)
    too_big = limits.size_problem(text, source)
    if too_big:
        raise KeywordConfigError([too_big])
    root = _compose(text, source)
    if root is None:
        raise KeywordConfigError([f"{source}:1: the file is empty"])
    bomb = limits.expansion_problem(root, source)
    if bomb:
        raise KeywordConfigError([bomb])
    top = ck.mapping(root, TOP_FIELDS, "the file")
    program = ck.text(top.get("program"), "program", required=True) or ""
    help_contact = ck.text(top.get("help_contact"), "help_contact") or ""
    answers = ck.flag(top.get("twilio_answers_keywords"), "twilio_answers_keywords", True)
    agents = frozenset(normalise_phone(a) for a, _ in ck.texts(top.get("agents"), "agents"))
    routes: list[Route] = []
    kw_node = top.get("keywords")
    if kw_node is not None and not isinstance(kw_node, yaml.SequenceNode):
        ck.fail(kw_node, "keywords must be a list")
    elif kw_node is not None:
        too_many = limits.count_problem(len(kw_node.value), source)
        if too_many:
            ck.problems.append(too_many)
        else:
            routes = [r for r in (_route(ck, n) for n in kw_node.value) if r is not None]
    default = Route(keyword="*", action="ticket", line=1)
    if "default" in top:
        d = ck.mapping(top["default"], DEFAULT_FIELDS, "default")
        action = ck.text(d.get("action"), "the default action") or "ticket"
        if action not in DEFAULT_ACTIONS:
            ck.fail(d.get("action"), f"the default action must be ticket or reply, got {action!r}")
        reply = ck.template(d.get("reply"), action, "the default reply")
        default = Route(keyword="*", action=action, reply=reply, line=top["default"].start_mark.line + 1)
    exact, first_word = _index(ck, routes)
    if not ck.problems:  # only templates that passed can be filled in
        _check_lengths(ck, [*routes, default], program, help_contact)
    if ck.problems:
        raise KeywordConfigError(ck.problems)
    return KeywordConfig(
        program=program,
        help_contact=help_contact,
        twilio_answers_keywords=answers,
        agents=agents,
        routes=tuple(routes),
        default=default,
        exact=exact,
        first_word=first_word,
        source=source,
    )


def load(path: str | Path) -> KeywordConfig:
    """Read and validate a keyword file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeywordConfigError([f"{p}:1: cannot read the file ({exc.__class__.__name__})"]) from None
    return parse(text, str(p))
