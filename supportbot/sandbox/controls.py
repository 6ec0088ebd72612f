"""POST /_control of either stand-in: the knobs a test or a developer turns."""

from __future__ import annotations

from flask import Response


def unknown_controls(data: dict, known: tuple[str, ...]) -> Response | None:
    """A 400 naming any knob the stand-in does not have: a typo must not pass silently."""
    if not isinstance(data, dict):
        return Response("the body must be a JSON object of controls\n", status=400, mimetype="text/plain")
    unknown = sorted(set(data) - set(known))
    if unknown:
        return Response(f"unknown control {', '.join(unknown)}\n", status=400, mimetype="text/plain")
    return None


def apply_controls(target: object, data: dict, names: tuple[str, ...]) -> None:
    """POST /_control of either stand-in: set the named knobs present in the request."""
    for name in names:
        if name in data:
            setattr(target, name, data[name])
