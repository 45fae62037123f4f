"""Log set-up: JSON lines in a cluster (for log collectors), readable lines on a terminal.

A JSON line is one object: ``ts``, ``level``, ``logger``, ``msg``, and on a line about a Flux
object its ``kind``, ``name`` and ``namespace`` (from :mod:`tide.runtime.logfields`), which is
what ``tide logs`` filters on. ``--log-file`` also writes the JSON lines to a file, so a local
``tide controller`` can be read by ``tide logs --log-file`` as a pod's log is read in a cluster.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

from tide.runtime.logfields import OBJECT

__all__ = ["configure", "json_formatter"]


class _JSONFormatter(logging.Formatter):
    converter = time.gmtime  # ``ts`` in UTC, as the ``Z`` says

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, OBJECT, None) or {})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def json_formatter() -> logging.Formatter:
    """Return the formatter of Tide's JSON log lines (UTC times, object fields at top level)."""
    return _JSONFormatter()


def configure(level: str, *, json_lines: bool | None = None, log_file: Path | None = None) -> None:
    """Send logs to standard error at ``level``; JSON when in a cluster unless told otherwise.

    Args:
        level: ``debug``, ``info``, ``warning`` or ``error``.
        json_lines: JSON on standard error; by default when running in a Pod.
        log_file: also append JSON lines to this file (what ``tide logs --log-file`` reads).
    """
    if json_lines is None:
        json_lines = "KUBERNETES_SERVICE_HOST" in os.environ
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(_JSONFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    handlers: list[logging.Handler] = [handler]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setFormatter(_JSONFormatter())
        handlers.append(to_file)
    logging.basicConfig(level=level.upper(), handlers=handlers, force=True)
    if level.lower() != "debug":
        # The HTTP client logs every request at INFO: Lease renewals alone would flood the log.
        for noisy in ("httpx", "httpx2", "httpcore", "httpcore2"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
