"""Webhook authenticity: Twilio's signature and Jira's HMAC or token."""

from __future__ import annotations

import hashlib
import hmac

from flask import Request, abort, request
from twilio.request_validator import RequestValidator

from supportbot import config


def public_url(request: Request) -> str:
    """The URL the caller signed: the public origin, the path, the raw query string.

    request.url would decode %27 and friends and break the signature, so the
    query string is taken as received. PUBLIC_BASE_URL is the public URL of the
    app's root, path prefix included; without it (production allows that only
    behind TRUSTED_PROXIES) the origin and prefix come from X-Forwarded-Proto,
    -Host and -Prefix through ProxyFix.
    """
    base = config.current().public_base_url or (f"{request.scheme}://{request.host}{request.script_root}")
    url = base + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def twilio_signature_ok(request: Request) -> bool:
    """X-Twilio-Signature over the public URL and the whole form, repeated keys included."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    validator = RequestValidator(config.current().twilio_auth_token or "")
    return validator.validate(public_url(request), request.form, signature)


FORM_TYPE = "application/x-www-form-urlencoded"


def require_signed_twilio_form() -> None:
    """415, 413 and 403 in that order, before anything is stored."""
    if request.mimetype != FORM_TYPE:
        abort(415, description=f"Content-Type must be {FORM_TYPE}")
    request.get_data(cache=True)  # raises 413 past MAX_CONTENT_LENGTH
    if not twilio_signature_ok(request):
        abort(403, description="X-Twilio-Signature is missing or does not match")


def jira_signature_ok(request: Request) -> bool:
    """X-Hub-Signature: sha256=<hex HMAC of the raw body>, or ?token= when JIRA_WEBHOOK_TOKEN is set."""
    settings = config.current()
    secret = settings.jira_webhook_secret
    header = request.headers.get("X-Hub-Signature", "")
    if header:
        if not secret:
            return False
        algo, _, given = header.partition("=")
        if algo.lower() != "sha256":
            return False
        expected = hmac.new(secret.encode(), request.get_data(), hashlib.sha256).hexdigest()
        # bytes on both sides: a non-ASCII header is simply a mismatch
        return hmac.compare_digest(expected.encode(), given.strip().lower().encode("utf-8", "replace"))
    token = settings.jira_webhook_token
    given_token = request.args.get("token", "")
    if not (token and given_token):
        return False
    return hmac.compare_digest(given_token.encode("utf-8", "replace"), token.encode())
