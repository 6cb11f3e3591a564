"""The airtable-emulator command line: help, startup line, port file, signals, bad input."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
import requests
from airtable_lakeflow.emulator import EmulatorProcess, find_emulator_binary

KNOBS = [
    "--host",
    "--port",
    "--port-file",
    "--data",
    "--demo",
    "--generate",
    "--seed",
    "--token",
    "--no-rate-limit",
    "--penalty-seconds",
    "--monthly-quota",
    "--iterator-ttl-seconds",
    "--latency-ms",
    "--faults",
    "--quiet",
    "--help",
    "--version",
]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(find_emulator_binary()), *args], capture_output=True, text=True, timeout=60
    )


def test_help_lists_every_knob() -> None:
    result = run("--help")
    assert result.returncode == 0
    for knob in KNOBS:
        assert knob in result.stdout, knob


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--port", "99999"], "--port"),
        (["--bogus"], "unknown option '--bogus'"),
        (["--faults", "kind=nope"], "kind="),
        (["--latency-ms", "fast"], "latency"),
        (["--demo", "--generate", "2x10"], "choose one"),
        (["--generate", "0x10"], "table"),
        (["--data", "/nonexistent/dir"], "/nonexistent/dir"),
        (["--port"], "needs a value"),
    ],
)
def test_bad_arguments_fail_with_a_clear_message(args: list[str], needle: str) -> None:
    result = run(*args)
    assert result.returncode != 0
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_startup_line_port_file_and_sigterm(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    proc = subprocess.Popen(
        [str(find_emulator_binary()), "--demo", "--port-file", str(port_file), "--quiet"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert set(info) == {"url", "port", "token", "bases"}
        assert info["url"] == f"http://127.0.0.1:{info['port']}"
        assert int(port_file.read_text()) == info["port"]
        assert info["bases"][0]["id"].startswith("app")
        r = requests.get(
            f"{info['url']}/v0/meta/bases",
            headers={"Authorization": f"Bearer {info['token']}"},
            timeout=10,
        )
        assert r.status_code == 200
        # A keep-alive connection left open must not stop a clean shutdown.
        session = requests.Session()
        session.get(f"{info['url']}/_emulator/health", timeout=10)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stdout:
            proc.stdout.close()


def test_demo_and_generated_data_are_deterministic() -> None:
    def first_page(args: list[str]) -> list[tuple[str, list[str]]]:
        with EmulatorProcess(args) as emu:
            table = emu.control("GET", "stats")["tables"][0]["table"]
            r = requests.get(
                f"{emu.url}/v0/{emu.base_id}/{table}",
                headers={"Authorization": f"Bearer {emu.token}"},
                params={"pageSize": 20},
                timeout=10,
            )
            return [(rec["id"], sorted(rec["fields"])) for rec in r.json()["records"]]

    assert first_page(["--generate", "2x50", "--seed", "5"]) == first_page(
        ["--generate", "2x50", "--seed", "5"]
    )
    assert first_page(["--generate", "2x50", "--seed", "5"]) != first_page(
        ["--generate", "2x50", "--seed", "6"]
    )
    assert first_page(["--demo"]) == first_page(["--demo"])


def test_custom_token(tmp_path: Path) -> None:
    token = "patCustomToken123." + "c" * 64
    with EmulatorProcess(["--demo", "--token", token]) as emu:
        assert emu.token == token
        ok = requests.get(
            f"{emu.url}/v0/meta/whoami", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert ok.status_code == 200
