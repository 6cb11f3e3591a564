"""The install matrix as `doctor` and the engine's load error tell it (platforms.fit)."""

from __future__ import annotations

import pytest
from airtable_lakeflow import __version__, platforms


@pytest.mark.parametrize(
    ("system", "machine", "libc", "arch"),
    [
        ("Linux", "x86_64", "glibc-2.36", "x86_64"),
        ("Linux", "aarch64", "glibc-2.28", "aarch64"),  # the floor itself
        ("Linux", "AMD64", "glibc-2.34", "x86_64"),  # Amazon Linux 2023
        ("Linux", "arm64", "glibc-2.39", "aarch64"),
    ],
)
def test_a_glibc_linux_at_or_above_the_floor_takes_its_arch_wheel(
    system: str, machine: str, libc: str, arch: str
) -> None:
    route = platforms.fit(system, machine, libc)
    assert route.wheel == f"airtable_lakeflow-{__version__}-py3-none-manylinux_2_28_{arch}.whl"
    assert route.wheel in route.advice


@pytest.mark.parametrize(
    ("system", "machine", "libc", "says"),
    [
        ("Linux", "x86_64", "glibc-2.17", "older than the wheels' floor, glibc 2.28"),  # CentOS 7
        ("Linux", "x86_64", "", "the wheels need glibc"),  # musl: Alpine
        ("Linux", "ppc64le", "glibc-2.34", "No prebuilt wheel for Linux ppc64le"),
        ("Darwin", "arm64", "", "untested on macOS"),
        ("Windows", "AMD64", "", "not supported: use WSL 2"),
    ],
)
def test_other_machines_are_told_how_they_install(
    system: str, machine: str, libc: str, says: str
) -> None:
    route = platforms.fit(system, machine, libc)
    assert route.wheel is None
    assert says in route.advice
    if system != "Windows":
        assert "source distribution" in route.advice and "libcurl" in route.advice


def test_this_machine_has_a_wheel() -> None:
    # The machines that build and test this project are x86-64 glibc Linux.
    assert platforms.here().wheel is not None
