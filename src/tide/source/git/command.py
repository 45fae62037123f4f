"""Run ``git`` with a deadline and turn its failures into reasons a user can act on."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
from pathlib import Path

from tide.api import reasons

__all__ = ["GitCommandError", "redact", "run_git"]

_USERINFO = re.compile(r"(?P<scheme>https?://)[^/@\s]+@")
"""User info in HTTP(S) URLs may be a password or token; an SSH user name is not secret."""
_AUTH_PATTERNS = (
    "authentication failed",
    "could not read username",
    "could not read password",
    "permission denied (publickey",
    "host key verification failed",
    "no matching host key",
    "the requested url returned error: 401",
    "the requested url returned error: 403",
    "invalid credentials",
    "load key",
)


class GitCommandError(Exception):
    """A git command failed; ``reason`` is AuthenticationFailed or GitOperationFailed.

    ``output`` is what the command printed on standard output before failing (``git push
    --porcelain`` reports each refused ref there), with credentials removed.
    """

    def __init__(self, message: str, *, reason: str, output: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.output = output


def redact(text: str) -> str:
    """Remove ``user:password@`` (or ``token@``) from HTTP(S) URLs in ``text``."""
    return _USERINFO.sub(r"\g<scheme>", text)


def _summary(stderr: str) -> str:
    if "could not read username" in stderr.lower():
        # git asks for credentials after a 401; with prompts off, that is all it says.
        return "the server refused the credentials (HTTP 401): check spec.secretRef"
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    meaningful = [line for line in lines if not line.startswith(("hint:", "warning:"))]
    return redact("; ".join(meaningful[-5:]) or "no output")


async def run_git(
    args: list[str],
    *,
    env: dict[str, str],
    timeout: float,
    cwd: Path | None = None,
) -> str:
    """Run ``git args`` and return its standard output.

    Raises:
        GitCommandError: non-zero exit or timeout, with the last lines git printed (credentials
            removed) and the reason that names the kind of failure.
    """
    # Inherited GIT_* variables (GIT_SSL_CAINFO, GIT_DIR…) would override the per-object settings
    # in ``env``, and an inherited SSH agent would offer keys the object never named.
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k != "SSH_AUTH_SOCK"
    }
    process = await asyncio.create_subprocess_exec(
        "git", *args,
        cwd=cwd,
        env={**inherited, **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        raise GitCommandError(
            f"git {args[0]} timed out after {timeout:g}s (spec.timeout)",
            reason=reasons.GIT_OPERATION_FAILED,
        ) from None
    except asyncio.CancelledError:  # the controller is stopping: do not leave git running
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        raise
    if process.returncode != 0:
        text = stderr.decode(errors="replace")
        lowered = text.lower()
        auth = any(pattern in lowered for pattern in _AUTH_PATTERNS)
        raise GitCommandError(
            _summary(text),
            reason=reasons.AUTHENTICATION_FAILED if auth else reasons.GIT_OPERATION_FAILED,
            output=redact(stdout.decode(errors="replace")),
        )
    return stdout.decode(errors="replace")
