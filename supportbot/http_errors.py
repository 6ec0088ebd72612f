"""Every error answers with its status code and a one-line reason."""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.exceptions import HTTPException


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def one_line(exc: HTTPException) -> Response:
        reason = (exc.description or exc.name).splitlines()[0]
        return Response(f"{exc.code} {exc.name}: {reason}\n", status=exc.code, content_type="text/plain")
