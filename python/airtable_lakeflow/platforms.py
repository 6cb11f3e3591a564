"""Which prebuilt wheel fits a machine: the install matrix of docs/install.md, as code.

`doctor` and the engine's load error use it to name the one file to install (or say that the
machine builds from source), for this machine and for Spark's workers, whose platform the
driver may not share (an x86-64 driver with Graviton workers, say).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass

from airtable_lakeflow import __version__

# The wheels' glibc floor: manylinux_2_28 (scripts/portable/, docs/install.md).
GLIBC_FLOOR = (2, 28)
# platform.machine() spellings of the architectures a wheel is built for.
WHEEL_ARCHES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
SOURCE_BUILD = (
    "pip then builds it from the source distribution, which needs CMake, a C++20 compiler and "
    "the libcurl, simdjson and nlohmann-json headers (docs/install.md)"
)


@dataclass(frozen=True)
class Fit:
    wheel: str | None  # the wheel file that installs there; None: a source build or nothing
    advice: str  # one sentence a person can act on


def wheel_name(arch: str) -> str:
    floor = "_".join(str(part) for part in GLIBC_FLOOR)
    return f"airtable_lakeflow-{__version__}-py3-none-manylinux_{floor}_{arch}.whl"


def _glibc(libc: str) -> tuple[int, ...] | None:
    """(2, 31) out of ``glibc-2.31`` (platform.libc_ver() joined by '-'); None for other libcs."""
    name, _, version = libc.partition("-")
    if name != "glibc":
        return None
    try:
        return tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        return None


def fit(system: str, machine: str, libc: str) -> Fit:
    """The install route for a machine described as ``platform.system()``,
    ``platform.machine()`` and ``"-".join(platform.libc_ver())``."""
    where = f"{system} {machine}" + (f" ({libc})" if libc else "")
    if system == "Windows":
        return Fit(None, f"{where} is not supported: use WSL 2 or a Linux cluster.")
    if system == "Darwin":
        return Fit(None, f"No prebuilt wheel for {where}: {SOURCE_BUILD}; untested on macOS.")
    if system != "Linux":
        return Fit(None, f"No prebuilt wheel for {where}: {SOURCE_BUILD}; untested there.")
    arch = WHEEL_ARCHES.get(machine.lower())
    if arch is None:
        return Fit(None, f"No prebuilt wheel for {where}: {SOURCE_BUILD}.")
    glibc = _glibc(libc)
    if glibc is None:
        return Fit(None, f"No prebuilt wheel for {where} (the wheels need glibc): {SOURCE_BUILD}.")
    if glibc < GLIBC_FLOOR:
        floor = ".".join(str(part) for part in GLIBC_FLOOR)
        return Fit(
            None,
            f"{where} is older than the wheels' floor, glibc {floor}: {SOURCE_BUILD}.",
        )
    return Fit(wheel_name(arch), f"Install {wheel_name(arch)}, the wheel for {where}.")


def here() -> Fit:
    return fit(platform.system(), platform.machine(), "-".join(platform.libc_ver()))
