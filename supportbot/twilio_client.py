"""The one module that builds the twilio REST client (and fetches MMS media)."""

from __future__ import annotations

import logging
import mimetypes
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from flask import Flask, current_app
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from supportbot import config
from supportbot.config import Settings

# the library logs every request with its form (bodies, numbers) at INFO: never ours
_quiet = logging.getLogger("supportbot.twilio_http")
_quiet.setLevel(logging.WARNING)


def rewrite(url: str, base: str | None) -> str:
    """Send what the library addresses to *.twilio.com to `base` instead (the sandbox)."""
    if not base:
        return url
    parts = urlsplit(url)
    if not parts.hostname or not parts.hostname.endswith("twilio.com"):
        return url
    target = urlsplit(base)
    return urlunsplit((target.scheme, target.netloc, target.path.rstrip("/") + parts.path, parts.query, ""))


class RoutedHttpClient(TwilioHttpClient):
    """TwilioHttpClient that sends to TWILIO_API_BASE_URL: a supported hook, not a patch."""

    def __init__(self, base_url: str | None, timeout: float):
        super().__init__(timeout=timeout, logger=_quiet)
        self.base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        return super().request(method, rewrite(url, self.base_url), *args, **kwargs)


def build(settings: Settings) -> Client:
    return Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        http_client=RoutedHttpClient(settings.twilio_api_base_url, settings.twilio_timeout),
    )


def init_app(app: Flask) -> None:
    """This process's client, built once: one connection pool, kept alive across jobs."""
    app.extensions["twilio_client"] = build(app.extensions["settings"])


def client() -> Client:
    built: Client = current_app.extensions["twilio_client"]
    return built


def download_media(url: str, content_type: str, index: int) -> tuple[str, bytes]:
    """An MMS attachment, fetched with the account's credentials (Twilio requires them)."""
    settings = config.current()
    resp = requests.get(
        rewrite(url, settings.twilio_api_base_url),
        auth=(settings.twilio_account_sid or "", settings.twilio_auth_token or ""),
        timeout=settings.twilio_timeout,
    )
    resp.raise_for_status()
    ext = mimetypes.guess_extension(content_type or "") or ".bin"
    return f"media-{index + 1}{ext}", resp.content
