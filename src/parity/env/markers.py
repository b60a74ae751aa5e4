"""The PEP 508 marker environment of a recorded interpreter, not of the one running Parity.

Lock files and exports are evaluated for the environment they describe, so markers such as
``sys_platform == "win32"`` resolve against the record's platform wherever Parity runs.
"""

from __future__ import annotations

from parity.core.environment import Environment

_SYS_PLATFORM = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}
_PYTHON_IMPLEMENTATION = {"cpython": "CPython", "pypy": "PyPy"}


def marker_environment(environment: Environment) -> dict[str, str]:
    interpreter, platform = environment.interpreter, environment.platform
    return {
        "implementation_name": interpreter.implementation,
        "implementation_version": interpreter.version,
        "os_name": "nt" if platform.system == "Windows" else "posix",
        "platform_machine": platform.machine,
        "platform_python_implementation": _PYTHON_IMPLEMENTATION.get(
            interpreter.implementation, interpreter.implementation
        ),
        "platform_release": platform.kernel,
        "platform_system": platform.system,
        # Not recorded (it names the kernel build); markers on it are rare in lock files.
        "platform_version": "",
        "python_full_version": interpreter.version,
        "python_version": interpreter.minor,
        "sys_platform": _SYS_PLATFORM.get(platform.system, platform.system.lower()),
        "extra": "",
    }


def environments_marker(environment: Environment) -> str:
    """One marker that holds exactly on the recorded platform and Python minor version."""
    values = marker_environment(environment)
    return " and ".join(
        f'{key} == "{values[key]}"'
        for key in ("sys_platform", "platform_machine", "implementation_name", "python_version")
    )


def uv_platform(environment: Environment) -> str | None:
    """uv's ``--python-platform`` for the record, so wheels are chosen for its OS and libc."""
    platform = environment.platform
    machine = {"arm64": "aarch64", "AMD64": "x86_64"}.get(platform.machine, platform.machine)
    if platform.system == "Linux":
        if platform.libc_family == "musl" and machine in ("x86_64", "aarch64"):
            return f"{machine}-unknown-linux-musl"
        if platform.libc_family == "glibc" and machine in ("x86_64", "aarch64"):
            minor = _glibc_minor(platform.libc_version)
            if minor is not None and minor >= 17:
                # uv knows manylinux tags up to 2_40; a newer glibc still runs those wheels.
                return f"{machine}-manylinux_2_{min(minor, 40)}"
        return "linux"
    if platform.system == "Darwin":
        return f"{machine}-apple-darwin" if machine in ("x86_64", "aarch64") else "macos"
    if platform.system == "Windows":
        return "x86_64-pc-windows-msvc" if machine == "x86_64" else "windows"
    return None


def _glibc_minor(version: str | None) -> int | None:
    parts = (version or "").split(".")
    if len(parts) >= 2 and parts[0] == "2" and parts[1].isdigit():
        return int(parts[1])
    return None
