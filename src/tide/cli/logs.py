"""Log set-up: JSON lines in a cluster (for log collectors), readable lines on a terminal."""

from __future__ import annotations

import json
import logging
import os
import sys

__all__ = ["configure"]


class _JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure(level: str, *, json_lines: bool | None = None) -> None:
    """Send logs to standard error at ``level``; JSON when in a cluster unless told otherwise."""
    if json_lines is None:
        json_lines = "KUBERNETES_SERVICE_HOST" in os.environ
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(_JSONFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    if level.lower() != "debug":
        # The HTTP client logs every request at INFO: Lease renewals alone would flood the log.
        for noisy in ("httpx", "httpx2", "httpcore", "httpcore2"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
