"""docs/prometheus-alerts.yml and docs/grafana-dashboard.json: they parse, the alerts fire when they
should (promtool), and they name only metrics that exist (see test_operations_e2e.py)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from helpers import ALERTS, DASHBOARD, IN_CI, METRIC, alert_rules

from standins import ROOT

ALERT_TESTS = ROOT / "tests" / "data" / "prometheus-alerts-test.yml"
PROMTOOL = shutil.which("promtool")


def test_promtool_is_there_in_ci():
    if IN_CI:
        assert PROMTOOL, "CI installs Debian's prometheus package for promtool (.ci/run)"


@pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (Debian package prometheus)")
def test_promtool_accepts_the_rules_and_the_alerts_fire_when_they_should():
    checked = subprocess.run([PROMTOOL, "check", "rules", str(ALERTS)], capture_output=True, text=True)  # noqa: S603
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([PROMTOOL, "test", "rules", str(ALERT_TESTS)], capture_output=True, text=True)  # noqa: S603
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_severity_a_summary_and_a_description():
    rules = alert_rules()
    names = [r["alert"] for r in rules]
    assert len(names) == len(set(names))
    for rule in rules:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]
        assert METRIC.search(rule["expr"]), rule["alert"]
    # what the issue asks for, by name
    assert {
        "SupportbotOutboxStuck",
        "SupportbotDeliveryFailures",
        "SupportbotUnreachableHandsetsRising",
        "SupportbotWebhookSlow",
        "SupportbotWorkersAbsent",
    } <= set(names)


def test_the_dashboard_is_importable_grafana_json():
    dash = json.loads(DASHBOARD.read_text())
    assert dash["__inputs"][0]["name"] == "DS_PROMETHEUS"
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dash["panels"]:
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"])
        if panel["type"] != "row":
            assert panel["targets"] and all(METRIC.search(t["expr"]) for t in panel["targets"]), panel[
                "title"
            ]
