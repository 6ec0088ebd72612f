"""The keyword config in force in this process, reloaded when the file changes.

Each process looks at the file's stat at most once per poll interval, on the
request path (one stat call), so every process notices a change within the
interval plus one request, without a watcher thread per gunicorn worker.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from importlib import resources

from supportbot.keywords.schema import KeywordConfig, KeywordConfigError, load, parse

log = logging.getLogger(__name__)


def builtin_config() -> KeywordConfig:
    """The packaged default, in force when the operator's file was never good."""
    text = resources.files("supportbot").joinpath("default_keywords.yaml").read_text("utf-8")
    return parse(text, "supportbot/default_keywords.yaml (built in)")


class KeywordStore:
    def __init__(self, path: str, poll_seconds: float = 1.0):
        self.path = path
        self.poll_seconds = poll_seconds
        self.error: str | None = None  # why the file on disk is not in force
        # the configuration in force, for /metrics: 0 for the built-in default, else a
        # 32-bit fingerprint of the file's bytes (processes that agree show the same number)
        self.version = 0
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._checked = 0.0
        self._config = builtin_config()
        self._loaded_from_file = False
        self._reload()

    def _file_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _reload(self) -> None:
        stamp = self._file_stamp()
        self._checked = time.monotonic()
        if stamp == self._stamp and self._stamp is not None:
            return
        self._stamp = stamp
        try:
            config = load(self.path)
        except KeywordConfigError as exc:
            self.error = str(exc)
            kept = "the last good file" if self._loaded_from_file else "the built-in default"
            log.error("keywords refused, keeping %s: %s", kept, exc)
            return
        self._config = config
        self.version = _fingerprint(self.path)
        self._loaded_from_file = True
        self.error = None
        log.info("keywords loaded from %s (%d keywords)", self.path, len(config.routes))

    def get(self) -> KeywordConfig:
        """The config in force, after a cheap check for a changed file."""
        if time.monotonic() - self._checked >= self.poll_seconds:
            with self._lock:
                if time.monotonic() - self._checked >= self.poll_seconds:
                    self._reload()
        return self._config


def _fingerprint(path: str) -> int:
    try:
        with open(path, "rb") as f:
            return int(hashlib.sha256(f.read()).hexdigest()[:8], 16)
    except OSError:
        return 0
