"""Jira webhook payloads, read: issue status, comment text in either body format,
and whether a comment is meant for the customer. Pure."""

from __future__ import annotations

from typing import Any

BLOCKS = {"paragraph", "heading", "blockquote", "codeBlock", "listItem", "rule", "panel", "mediaSingle"}


def comment_text(body: Any) -> str:
    """A comment body as text: Jira sends a string (API v2, Data Center) or an
    Atlassian document (API v3). No library turns ADF into plain text for SMS."""
    if body is None:
        return ""
    if isinstance(body, str):
        return body.strip()
    out: list[str] = []
    _walk(body, out)
    lines = [line.rstrip() for line in "".join(out).split("\n")]
    return "\n".join(lines).strip()


# deeper than any document Jira's editor makes; bounds the recursion on hostile input
MAX_DEPTH = 64


def _walk(node: Any, out: list[str], depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        return
    if isinstance(node, list):
        for child in node:
            _walk(child, out, depth + 1)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    raw_attrs = node.get("attrs")
    attrs: dict[str, Any] = raw_attrs if isinstance(raw_attrs, dict) else {}
    if kind == "text":
        out.append(str(node.get("text", "")))
    elif kind == "hardBreak":
        out.append("\n")
    elif kind in ("mention", "emoji", "status"):
        out.append(str(attrs.get("text") or attrs.get("shortName") or ""))
    elif kind in ("inlineCard", "blockCard"):
        out.append(str(attrs.get("url", "")))
    elif kind == "listItem":
        out.append("- ")
    _walk(node.get("content") or [], out, depth + 1)
    if kind in BLOCKS and not (out and out[-1].endswith("\n")):
        out.append("\n")


def is_public(comment: dict[str, Any], issue: dict[str, Any]) -> bool:
    """For the customer: no visibility restriction, and on a service-desk project
    jsdPublic true (a missing jsdPublic there counts as internal)."""
    if comment.get("visibility"):
        return False
    project = ((issue.get("fields") or {}).get("project") or {}).get("projectTypeKey")
    if project == "service_desk":
        return comment.get("jsdPublic") is True
    return comment.get("jsdPublic") is not False


def author_ids(comment: dict[str, Any]) -> set[str]:
    author = comment.get("author") or comment.get("updateAuthor") or {}
    return {str(author[k]) for k in ("accountId", "name", "key", "emailAddress") if author.get(k)}


def author_identity(comment: dict[str, Any]) -> dict[str, str]:
    """The comment's author as Jira names users: accountId on Cloud, name and key on Data Center."""
    author = comment.get("author")
    if not isinstance(author, dict):
        return {}
    return {k: str(author[k]) for k in ("accountId", "name", "key") if isinstance(author.get(k), str | int)}


def in_project(key: str, project: str) -> bool:
    """Whether an issue key (PROJ-123) belongs to the project."""
    prefix, _, number = key.rpartition("-")
    return prefix == project and number.isdigit()


DONE = "done"  # Jira's statusCategory key for resolved statuses


def status_of(fields: dict[str, Any]) -> tuple[str, bool]:
    """(status name, closed?) from an issue's fields as a webhook carries them."""
    status = fields.get("status") or {}
    category = (status.get("statusCategory") or {}).get("key")
    return status.get("name") or "Open", category == DONE


MAX_ID_LENGTH = 64  # issue keys and comment ids are far shorter; our columns hold 64
MAX_TIMESTAMP = 2**53  # milliseconds; far past any real date, and within a BIGINT

# (path, the types allowed there) for every field the webhook reads; None means absent
_SHAPE: tuple[tuple[tuple[str, ...], tuple[type, ...]], ...] = (
    (("webhookEvent",), (str,)),
    (("issue",), (dict,)),
    (("issue", "key"), (str,)),
    (("issue", "fields"), (dict,)),
    (("issue", "fields", "status"), (dict,)),
    (("issue", "fields", "status", "name"), (str,)),
    (("issue", "fields", "status", "statusCategory"), (dict,)),
    (("issue", "fields", "project"), (dict,)),
    (("comment",), (dict,)),
    (("comment", "id"), (str, int)),
    (("comment", "body"), (str, dict, list)),
    (("comment", "author"), (dict,)),
    (("comment", "jsdPublic"), (bool,)),
)


def shape_problem(payload: dict[str, Any]) -> str | None:
    """Why a Jira payload cannot be read as Jira sends it, or None. Pure."""
    stamp = payload.get("timestamp")
    if stamp is not None and (
        isinstance(stamp, bool) or not isinstance(stamp, int) or not 0 <= stamp < MAX_TIMESTAMP
    ):
        return "timestamp must be a whole number of milliseconds"
    for path, types in _SHAPE:
        node: Any = payload
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None and (
            not isinstance(node, types) or (bool not in types and isinstance(node, bool))
        ):
            names = " or ".join(
                "object" if t is dict else "array" if t is list else t.__name__ for t in types
            )
            return f"{'.'.join(path)} must be {'an' if names[0] in 'aeiou' else 'a'} {names}"
        if isinstance(node, str) and "\x00" in node:
            # these are compared with and stored in text columns, which cannot hold NUL
            return f"{'.'.join(path)} holds a NUL character"
    for path in (("issue", "key"), ("comment", "id")):
        value = (payload.get(path[0]) or {}).get(path[1])
        if value is not None and len(str(value)) > MAX_ID_LENGTH:
            return f"{'.'.join(path)} is longer than {MAX_ID_LENGTH} characters"
    return None
