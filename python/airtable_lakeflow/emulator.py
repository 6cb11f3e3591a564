"""Start and drive the `airtable-emulator` server from Python (tests, demo, benchmarks).

The emulator is a separate C++ program; this module finds it, starts it on a free loopback
port, reads its startup line and talks to its control API under ``/_emulator/``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["EmulatorError", "EmulatorProcess", "find_emulator_binary"]


class EmulatorError(RuntimeError):
    """The emulator could not be found, started or controlled."""


def find_emulator_binary() -> Path:
    """The `airtable-emulator` next to this Python, on PATH, or in $AIRTABLE_EMULATOR_BIN."""
    explicit = os.environ.get("AIRTABLE_EMULATOR_BIN")
    candidates = [Path(explicit)] if explicit else []
    candidates.append(Path(sys.prefix) / "bin" / "airtable-emulator")
    on_path = shutil.which("airtable-emulator")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise EmulatorError(
        "airtable-emulator not found: run `make build` (it installs the binary into .venv/bin) "
        "or set AIRTABLE_EMULATOR_BIN to its path"
    )


@dataclass
class EmulatorProcess:
    """A running emulator. Use as a context manager; it stops the server on exit."""

    args: list[str] = field(default_factory=lambda: ["--demo"])
    startup_timeout: float = 60.0
    url: str = ""
    port: int = 0
    token: str = ""
    bases: list[dict[str, str]] = field(default_factory=list)
    _proc: subprocess.Popen[str] | None = None

    def start(self) -> EmulatorProcess:
        binary = find_emulator_binary()
        self._proc = subprocess.Popen(
            [str(binary), "--port", "0", "--quiet", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self._proc.stdout.readline() if self._proc.stdout else ""
        if not line:
            err = self._proc.stderr.read() if self._proc.stderr else ""
            self._proc.wait(timeout=5)
            raise EmulatorError(f"airtable-emulator did not start: {err.strip() or 'no output'}")
        info = json.loads(line)
        self.url, self.port, self.token = info["url"], info["port"], info["token"]
        self.bases = info["bases"]
        return self

    def stop(self) -> int:
        """Stops the server with SIGTERM; returns its exit code."""
        if self._proc is None:
            return 0
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream:
                stream.close()
        code = self._proc.returncode
        self._proc = None
        return code

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_id(self) -> str:
        return self.bases[0]["id"]

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Calls the control API, e.g. control("POST", "clock/advance", {"seconds": 31})."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}/_emulator/{path.lstrip('/')}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            raise EmulatorError(f"control {method} {path}: {e.code} {e.read().decode()}") from e

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        """The request log (entries after sequence number `since`)."""
        return self.control("GET", f"requests?since={since}")["requests"]

    def configure(self, **knobs: Any) -> dict[str, Any]:
        return self.control("POST", "config", knobs)

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return self.control("POST", "clock/advance", {"seconds": seconds})

    def reset(self) -> None:
        self.control("POST", "reset", {})

    def upload_attachments(self, attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Registers attachments that are in no cell yet (POST /_emulator/attachments): each
        {"filename", "type"?, "size"?, "content_base64"?, "width"?, "height"?} becomes
        {"id", "filename", "size", "type", …}; writing {"id": …} into an attachment cell
        through the API then puts it there."""
        return self.control("POST", "attachments", {"attachments": attachments})["attachments"]
