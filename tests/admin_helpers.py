"""Signing in to the admin console from the Flask test client."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from supportbot.admin import accounts

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_user(app: Flask, email: str = "admin@example.com", role: str = "admin") -> None:
    with app.app_context():
        accounts.create(email, PASSWORD, role)


def csrf_token(client: FlaskClient, path: str = "/admin/login") -> str:
    page = client.get(path)
    found = _TOKEN.search(page.data.decode())
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def sign_in(client: FlaskClient, email: str = "admin@example.com", password: str = PASSWORD):
    token = csrf_token(client)
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token})


def signed_in(app: Flask, role: str = "admin", email: str | None = None) -> FlaskClient:
    email = email or f"{role}@example.com"
    make_user(app, email, role)
    client = app.test_client()
    resp = sign_in(client, email)
    assert resp.status_code == 302, resp.data
    return client


def post_form(client: FlaskClient, path: str, data: dict, page: str = "/admin/keywords"):
    """POST a form with a CSRF token taken from a page, as a browser would."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})
