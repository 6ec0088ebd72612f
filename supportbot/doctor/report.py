"""A doctor check's result and how it prints: one line, with the fix when it is not ok."""

from __future__ import annotations

from dataclasses import dataclass

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass(frozen=True)
class Check:
    status: str
    name: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<4}  {self.name}: {self.detail}"
        return f"{text} -- fix: {self.fix}" if self.fix and self.status != OK else text


def ok(name: str, detail: str) -> Check:
    return Check(OK, name, detail)


def warn(name: str, detail: str, fix: str) -> Check:
    return Check(WARN, name, detail, fix)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(FAIL, name, detail, fix)
