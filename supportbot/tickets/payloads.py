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


def _walk(node: Any, out: list[str]) -> None:
    if isinstance(node, list):
        for child in node:
            _walk(child, out)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    attrs = node.get("attrs") or {}
    if kind == "text":
        out.append(node.get("text", ""))
    elif kind == "hardBreak":
        out.append("\n")
    elif kind in ("mention", "emoji", "status"):
        out.append(attrs.get("text") or attrs.get("shortName") or "")
    elif kind in ("inlineCard", "blockCard"):
        out.append(attrs.get("url", ""))
    elif kind == "listItem":
        out.append("- ")
    _walk(node.get("content") or [], out)
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
