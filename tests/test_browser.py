"""The admin console and the dev phone in real Chromium (Playwright), against gunicorn on
Postgres and Redis with a real RQ worker."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
import requests
from browser_stack import SCREENSHOTS, Stack
from helpers import (
    HAVE_PG,
    HAVE_REDIS,
    IN_CI,
    REDIS_URL,
    ROOT,
    base_config,
    database_url,
    inbound_form,
    sign,
    truncate_all,
)
from playwright.sync_api import Browser, Page, expect

from supportbot import create_app
from supportbot.extensions import db

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (HAVE_PG and HAVE_REDIS), reason="needs Postgres and Redis"),
    # make test installs it; CI must not pass by skipping
    pytest.mark.skipif(
        not Path("/usr/bin/chromium").exists() and not IN_CI, reason="needs Debian's chromium"
    ),
]

GOOD = (ROOT / "keywords.yaml").read_text()
HOURS = "We answer texts Mon-Fri 8am-6pm Pacific."
LAPTOP = {"width": 1366, "height": 860}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="module")
def stack(migrated, tmp_path_factory, request):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    tmp = tmp_path_factory.mktemp("browser")
    cfg = base_config(
        tmp, DATABASE_URL=database_url(migrated), REDIS_URL=REDIS_URL, ADMIN_COOKIE_SECURE="false"
    )
    cleaner = create_app(dict(cfg))
    truncate_all(cleaner)
    with cleaner.app_context():
        db.engine.dispose()
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    served = Stack(cfg, tmp)
    yield served
    served.stop()
    truncate_all(cleaner)
    with cleaner.app_context():
        db.engine.dispose()
    redis.Redis.from_url(REDIS_URL).flushdb()


def shoot(page: Page, name: str) -> None:
    """A full-page screenshot at laptop width and one at phone width."""
    for label, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(LAPTOP)


def sign_in(page: Page, base: str) -> None:
    page.goto(base + "/admin/keywords")
    expect(page).to_have_url(re.compile(r"/admin/login"))
    page.get_by_label("Email").fill("admin@localhost")
    page.get_by_label("Password").fill("admin")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Keywords", exact=True)).to_be_visible()


def inbound_reply(base: str, body: str, n: list[int] = [0]) -> str:  # noqa: B006 - a counter for sids
    n[0] += 1
    form = inbound_form(sid=f"SMbrowser{time.time_ns()}{n[0]}", sender="+14155550177", body=body)
    url = base + "/twilio/inbound"
    resp = requests.post(url, data=form, headers={"X-Twilio-Signature": sign(url, form)}, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.text


def answered_within(base: str, text: str, seconds: float) -> float:
    """How long until process `base` answers HOURS with `text`; fails after `seconds`."""
    start = time.monotonic()
    while True:
        if text in inbound_reply(base, "hours"):
            return time.monotonic() - start
        elapsed = time.monotonic() - start
        assert elapsed < seconds, f"{base} still answers the old reply after {elapsed:.2f}s"
        time.sleep(0.05)


@pytest.fixture
def page(browser: Browser):
    context = browser.new_context(viewport=LAPTOP)
    pg = context.new_page()
    yield pg
    context.close()


def test_sign_in_and_out(stack, page):
    page.goto(stack.a + "/admin/login")
    shoot(page, "login")
    page.get_by_label("Email").fill("admin@localhost")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    sign_in(page, stack.a)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(stack.a + "/admin/audit")
    expect(page).to_have_url(re.compile(r"/admin/login"))


def test_edit_validate_try_publish_and_roll_back(stack, page, capsys):
    sign_in(page, stack.a)
    assert HOURS in inbound_reply(stack.b, "hours")  # process B answers from version 1
    shoot(page, "keywords")
    editor = page.get_by_label("Keyword configuration")
    bad = GOOD.replace("action: reply", "action: dance")
    line = bad.splitlines().index("    action: dance") + 1
    editor.fill(bad)
    page.get_by_role("button", name="Validate").click()
    expect(page.locator(f"#line-{line} .why")).to_contain_text("unknown action 'dance'")
    shoot(page, "keywords-invalid")

    fixed = GOOD.replace(HOURS, "Open 24/7 this week.")
    page.get_by_label("Keyword configuration").fill(fixed)
    page.get_by_role("button", name="Validate").click()
    expect(page.get_by_role("status")).to_contain_text("Valid: 6 keywords")
    page.get_by_label("Text").fill("hours")
    page.get_by_label("From", exact=True).fill("+14155550177")
    page.get_by_role("button", name="Try").click()
    result = page.get_by_label("Try result")
    expect(result).to_contain_text("HOURS -> reply")
    expect(result).to_contain_text("Open 24/7 this week.")
    shoot(page, "keywords-try")
    assert HOURS in inbound_reply(stack.b, "hours")  # trying changed nothing

    page.get_by_label("Comment").fill("open all week")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("Published version 2")
    took = answered_within(stack.b, "Open 24/7 this week.", 2.0)
    with capsys.disabled():
        print(f"\n  process B answered with the published reply {took:.2f}s after Publish")

    page.get_by_role("link", name="Versions").click()
    shoot(page, "versions")
    version_1 = page.get_by_role("article", name="Version 1")
    version_1.get_by_role("button", name="Roll back").click()
    expect(page.get_by_role("heading", name="Roll back to version 1?")).to_be_visible()
    shoot(page, "rollback-confirm")
    page.get_by_role("button", name="Yes, roll back").click()
    expect(page.get_by_role("status")).to_contain_text("Rolled back: version 3 is a copy of version 1")
    took = answered_within(stack.b, HOURS, 2.0)
    with capsys.disabled():
        print(f"  process B answered with the rolled-back reply {took:.2f}s after Roll back")


def test_dev_phone_round_trip_with_an_agent_reply(stack, browser):
    phone_ctx = browser.new_context(viewport=PHONE)
    admin_ctx = browser.new_context(viewport=LAPTOP)
    try:
        phone = phone_ctx.new_page()
        phone.goto(stack.a + "/sandbox/phone")
        phone.get_by_label("From").fill("+14155550188")
        phone.get_by_label("Message").fill("My parcel has not arrived")
        phone.get_by_role("button", name="Send").click()
        thread = phone.get_by_role("list").filter(has_text="My parcel has not arrived")
        expect(thread).to_contain_text(re.compile(r"Thanks! Ticket SB-\d+ is open"))
        ref = re.search(r"SB-(\d+)", thread.inner_text()).group(0)

        admin = admin_ctx.new_page()
        sign_in(admin, stack.a)
        admin.get_by_role("link", name="Tickets").click()
        shoot(admin, "tickets")
        admin.get_by_role("link", name=ref, exact=True).click()
        admin.get_by_label("Reply").fill("Your parcel arrives tomorrow.")
        admin.get_by_role("button", name="Send").click()
        expect(admin.get_by_role("status")).to_contain_text("Reply queued")

        # the phone page was never reloaded: it polls
        sms = phone.locator("li.msg").filter(has_text="Your parcel arrives tomorrow.")
        expect(sms.locator(".status")).to_have_text("delivered", timeout=15_000)
        expect(sms).to_contain_text("accepted by the sandbox")
        shoot(phone, "dev-phone")
        admin.reload()
        expect(admin.locator(".status.s-delivered")).to_be_visible()
        shoot(admin, "ticket")

        phone.get_by_label("Message").fill("STOP")
        phone.get_by_role("button", name="Send").click()
        expect(phone.locator("#consent")).to_have_text("opted out")
        admin.get_by_label("Reply").fill("Are you still there?")
        admin.get_by_role("button", name="Send").click()
        refused = phone.locator("li.msg").filter(has_text="Are you still there?")
        expect(refused.locator(".status")).to_have_text("blocked", timeout=15_000)
        expect(refused).to_contain_text("has opted out (texted STOP)")
        shoot(phone, "dev-phone-opted-out")

        admin.get_by_role("link", name="Conversations").click()
        admin.get_by_label("Number").fill("0188")
        admin.get_by_role("button", name="Search").click()
        admin.get_by_role("link", name="+14155550188").click()
        expect(admin.get_by_role("region", name="Thread")).to_contain_text("Your parcel arrives tomorrow.")
        shoot(admin, "conversation")
        admin.get_by_role("link", name="Conversations").click()
        shoot(admin, "conversations")
        admin.get_by_role("link", name="Consent").click()
        admin.get_by_role("button", name="Verify").click()
        expect(admin.get_by_role("status")).to_contain_text("Chain intact")
        with admin.expect_download() as download:
            admin.get_by_role("link", name="Export CSV").click()
        assert download.value.suggested_filename == "consent-ledger.csv"
        shoot(admin, "consent")
        admin.get_by_role("link", name="Audit log").click()
        expect(admin.get_by_role("table")).to_contain_text("reply")
        shoot(admin, "audit")
    finally:
        phone_ctx.close()
        admin_ctx.close()


def test_sign_in_throttling_is_shared_through_redis_in_production(stack):
    """Process B runs in production: its failed sign-in counts live in Redis."""
    import redis

    session = requests.Session()
    codes = []
    for _ in range(6):
        page = session.get(stack.b + "/admin/login", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        resp = session.post(
            stack.b + "/admin/login",
            data={"email": "nobody@example.com", "password": "guess", "csrf_token": token},
            timeout=10,
        )
        codes.append(resp.status_code)
    assert codes == [401] * 5 + [429]
    keys = redis.Redis.from_url(REDIS_URL).keys("LIMITS:*signin-account*")
    assert keys, "no sign-in counter in Redis"
