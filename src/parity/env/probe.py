"""Fingerprint the Python environment this file runs in, using the standard library only.

Run inside a *target* interpreter (imported from this folder by ``python -c``, see
``parity.env.capture``) so Parity need not be installed there, or imported and called in-process
for the running interpreter. It reads dist-info and egg-info files directly in one pass
(importlib.metadata is several times slower), never imports a framework, and reads no environment
variable except the allow-listed numerics ones. The output is the ``Environment`` record's
dictionary form, printed as JSON.

Keep this file compatible with Python 3.8: it may run in an older target interpreter.

Start-up is most of a capture's time, so the probe imports only os, sys and sysconfig up front
(measured in a target: hashlib costs 2.4 ms, json 6 ms, re 4.7 ms). json and re load only where
a file needs them (direct_url.json, torch or TensorFlow version files), hashlib, base64,
platform, shutil and subprocess only where they are used, and the output is written by
``dumps`` below.
"""

import os
import sys
import sysconfig

NUMERICS_VARIABLES = (
    "PYTHONHASHSEED",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_CBWR",
    "CUBLAS_WORKSPACE_CONFIG",
    "CUDA_VISIBLE_DEVICES",
    "TF_DETERMINISTIC_OPS",
    "TZ",
    "LANG",
    "LC_ALL",
)
# Instruction-set extensions that decide which native kernels a package can run.
ISA_FLAGS = {
    "sse",
    "sse2",
    "sse3",
    "pni",
    "ssse3",
    "sse4_1",
    "sse4_2",
    "popcnt",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "bmi1",
    "bmi2",
    "aes",
    "sha_ni",
    "avx512f",
    "avx512cd",
    "avx512bw",
    "avx512dq",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "avx512_fp16",
    "amx_tile",
    "amx_bf16",
    "amx_int8",
    "asimd",
    "sve",
    "sve2",
    "neon",
    "fp16",
    "bf16",
    "i8mm",
}
# BLAS and OpenMP runtimes by a name in their file name; where two match at the same place in the
# name the first listed wins ("libomp" before "omp").
NATIVE_APIS = (
    "openblas",
    "mkl_rt",
    "mkl_core",
    "blis",
    "flexiblas",
    "accelerate",
    "gomp",
    "iomp5",
    "libomp",
    "omp",
)
NATIVE_FOLDERS = ("numpy.libs", "scipy.libs", "scikit_learn.libs", "torch/lib", "numpy/.libs")


def _skip(skipped, what, error):
    """Note in ``skipped`` that ``what`` could not be read: an exception, or a message.

    An exception is told by its root cause's first line: numpy wraps "libscipy_openblas….so:
    cannot open shared object file" in a page of advice that would hide it.
    """
    if skipped is None:
        return
    if isinstance(error, BaseException):
        while error.__cause__ is not None or error.__context__ is not None:
            error = error.__cause__ or error.__context__
        lines = str(error).strip().splitlines()
        error = type(error).__name__ + (": " + lines[0] if lines else "")
    skipped.append({"what": what, "error": error[:300]})


def _read(path, limit=None):
    try:
        with open(path, "rb") as handle:
            return handle.read() if limit is None else handle.read(limit)
    except OSError:
        return None


def _text(path, limit=None):
    data = _read(path, limit)
    return None if data is None else data.decode("utf-8", "replace")


def _head(path, limit):
    """The complete lines within the first ``limit`` bytes: a cut last line is dropped, so a
    header is never read half (``Version: 1.2`` of ``Version: 1.26.4``)."""
    data = _read(path, limit)
    if data is None:
        return None
    if len(data) == limit:
        data = data[: data.rfind(b"\n") + 1]
    return data.decode("utf-8", "replace")


def normalize(name):
    """PEP 503: runs of "-", "_" and "." become one "-", lower case (re.sub without re)."""
    name = name.replace("_", "-").replace(".", "-")
    while "--" in name:
        name = name.replace("--", "-")
    return name.lower()


def _uname():
    """(system, release, machine) without importing platform, which parses far more than that."""
    if hasattr(os, "uname"):
        facts = os.uname()
        return facts.sysname, facts.release, facts.machine
    import platform

    return platform.system(), platform.release(), platform.machine()


# interpreter ------------------------------------------------------------------------------------
def _glibc():
    try:
        family, version = (os.confstr("CS_GNU_LIBC_VERSION") or "").split()
        return ("glibc" if family == "glibc" else family), version
    except (AttributeError, ValueError, OSError):
        pass
    if sys.platform.startswith("linux"):
        for folder in ("/lib", "/usr/lib"):
            try:
                if any(n.startswith("ld-musl") for n in os.listdir(folder)):
                    return "musl", None
            except OSError:
                continue
    return None, None


def _wheel_tags(libc_family, libc_version, machine):
    version = f"{sys.version_info[0]}{sys.version_info[1]}"
    impl = {"cpython": "cp", "pypy": "pp"}.get(sys.implementation.name, sys.implementation.name)
    abi = (impl + version + getattr(sys, "abiflags", "")) if impl == "cp" else "none"
    machine = machine.lower()
    plats = []
    if sys.platform.startswith("linux"):
        if libc_family == "glibc" and libc_version:
            major, minor = libc_version.split(".")[:2]
            plats.append(f"manylinux_{major}_{minor}_{machine}")
        elif libc_family == "musl":
            plats.append(f"musllinux_1_2_{machine}")
        plats.append(f"linux_{machine}")
    elif sys.platform == "darwin":
        import platform

        release = platform.mac_ver()[0].split(".")
        minor = release[1] if len(release) > 1 else "0"
        plats.append(f"macosx_{release[0]}_{minor}_{machine}")
    elif sys.platform == "win32":
        plats.append("win_amd64" if machine in ("amd64", "x86_64") else "win32")
    tags = [f"{impl}{version}-{abi}-{plat}" for plat in plats]
    tags.append(f"{impl}{version}-abi3-{plats[0]}" if plats else "py3-none-any")
    tags.append("py3-none-any")
    return tags


def interpreter(libc_family, libc_version):
    conda = os.path.isdir(os.path.join(sys.prefix, "conda-meta"))
    return {
        "implementation": sys.implementation.name,
        # What platform.python_version() returns, without importing platform.
        "version": sys.version.split()[0],
        "abi": sysconfig.get_config_var("SOABI"),
        "wheel_tags": _wheel_tags(libc_family, libc_version, _uname()[2]),
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "is_venv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
        "conda_env": os.path.basename(sys.prefix) if conda else None,
    }


# platform ---------------------------------------------------------------------------------------
def _cpu():
    model = None
    flags: set[str] = set()
    text = _text("/proc/cpuinfo", 65536) or ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "cpu model", "hardware") and model is None:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = set(value.split()) & ISA_FLAGS
        elif not line.strip() and model and flags:
            break
    if model is None and sys.platform == "darwin":
        import platform

        model = platform.processor() or None
    return model, sorted(flags)


def _os_release():
    text = _text("/etc/os-release") or ""
    for line in text.splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    import platform

    if sys.platform == "darwin":
        return "macOS " + platform.mac_ver()[0]
    return platform.platform(terse=True) or None


def platform_facts(libc_family, libc_version):
    model, flags = _cpu()
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = None
    system, release, machine = _uname()
    return {
        "system": system,
        "kernel": release,
        "os_release": _os_release(),
        "libc_family": libc_family,
        "libc_version": libc_version,
        "machine": machine,
        "cpu_model": model,
        "cpu_flags": flags,
        "cpu_count": os.cpu_count(),
        "cpu_affinity": affinity,
    }


# distributions ----------------------------------------------------------------------------------
def _headers(text, wanted=None):
    """The first value of each RFC 822 header (lower-cased names); stop early once ``wanted``
    are all found: METADATA files run to hundreds of lines, and the probe needs two of them."""
    found = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        key = key.strip().lower()
        if sep and key not in found:
            found[key] = value.strip()
            if wanted is not None and wanted.issubset(found):
                break
    return found


def _source(folder):
    text = _text(os.path.join(folder, "direct_url.json"))
    if not text:
        return {"kind": "index", "url": None, "commit": None, "vcs": None, "archive_hash": None}
    import json
    import re

    try:
        info = json.loads(text)
    except ValueError:
        return {"kind": "index", "url": None, "commit": None, "vcs": None, "archive_hash": None}
    url = re.sub(r"//[^/@]*@", "//", info.get("url") or "")  # never keep credentials
    if "vcs_info" in info:
        vcs = info["vcs_info"]
        return {
            "kind": "vcs",
            "url": url,
            "commit": vcs.get("commit_id"),
            "vcs": vcs.get("vcs"),
            "archive_hash": None,
        }
    if "archive_info" in info:
        archive = info["archive_info"]
        digest = archive.get("hash")
        if not digest and archive.get("hashes"):
            name = sorted(archive["hashes"])[0]
            digest = name + "=" + archive["hashes"][name]
        if not digest:
            # uv leaves archive_info empty and keeps the hash in the URL: file:///x.whl#sha256=…
            fragment = re.search(r"#(sha256|sha384|sha512|md5)=([0-9a-fA-F]+)$", url)
            digest = fragment.group(1) + "=" + fragment.group(2) if fragment else None
        return {"kind": "archive", "url": url, "commit": None, "vcs": None, "archive_hash": digest}
    editable = (info.get("dir_info") or {}).get("editable", False)
    return {
        "kind": "editable" if editable else "directory",
        "url": url,
        "commit": None,
        "vcs": None,
        "archive_hash": None,
    }


def _record_entries(record_text):
    for line in record_text.splitlines():
        if not line:
            continue
        if line.startswith('"'):
            path, _, rest = line[1:].partition('",')
        else:
            path, _, rest = line.partition(",")
        digest = rest.split(",", 1)[0] if rest else ""
        yield path, digest


def _modules_in(folder):
    names: set[str] = set()
    try:
        entries = os.listdir(folder)
    except OSError:
        return names
    for entry in entries:
        if entry.endswith(".py") and entry != "setup.py":
            names.add(entry[:-3])
        elif os.path.isfile(os.path.join(folder, entry, "__init__.py")):
            names.add(entry)
    return names


def _record_heads(record_text):
    """The first component of every path in RECORD, split into folders and top-level files.

    One pass that only partitions each line: RECORD files run to thousands of lines (the whole
    probe reads ~12,000 for 160 packages), and their hashes never contain a slash (urlsafe
    base64), so a line without "/" is a file at the top of site-packages.
    """
    folders, files = set(), set()
    for head in {line.partition("/")[0] for line in record_text.splitlines()}:
        head = head.lstrip('"')
        if "," in head:  # no "/" in the line: "six.py,sha256=…,34549"
            files.add(head.split(",", 1)[0])
        elif head:
            folders.add(head)
    return folders, files


# Folders in RECORD that hold no importable package: metadata, shared libraries, scripts.
_NOT_PACKAGES = (".dist-info", ".egg-info", ".data", ".libs", ".pth")


def _top_level(site, folder, record_text, name):
    text = _text(os.path.join(folder, "top_level.txt"))
    if text is not None:
        return sorted({line.strip() for line in text.splitlines() if line.strip()})
    folders, files = _record_heads(record_text or "")
    found = {
        head.split(".", 1)[0]
        for head in folders
        if head not in ("..", "__pycache__", "") and not head.endswith(_NOT_PACKAGES)
    }
    for path in files:
        if path.endswith(".pth"):
            # An editable install points at its source folder through a .pth file.
            for line in (_text(os.path.join(site, path)) or "").splitlines():
                if line and not line.startswith(("#", "import ")):
                    found |= _modules_in(line.strip())
        elif path.endswith((".py", ".so", ".pyd")) and path != "setup.py":
            found.add(path.split(".", 1)[0])
    return sorted(found) or [name.replace("-", "_")]


# What two faithful installs of one wheel write differently into RECORD, so the digest leaves it
# out: files the installer writes itself (its name, REQUESTED, PEP 610's direct_url.json, uv's
# cache stamp with its timestamp, RECORD), and bytecode, which pip compiles and records and uv
# does not. Scripts keep their path but not their hash: the installer rewrites their #! line to
# name this venv's python (and writes console-script launchers of its own), so their content
# follows from the venv and from entry_points.txt, which keeps its hash. A real change to an
# installed file is what --deep's re-hash against RECORD reports.
_INSTALLER_WRITTEN = ("INSTALLER", "REQUESTED", "direct_url.json", "uv_cache.json", "RECORD")
_SCRIPT_FOLDERS = ("bin/", "Scripts/")


def _record_digest(record_text, dist_info):
    """BLAKE2b-256 of RECORD's entries as installers agree on them, sorted (pip and uv order
    them differently): ``files-blake2b-256:…``.

    Judged line by line in Python this took 60 ms for the 22,700 lines of a 130-package venv
    (9 ms this way, against 2.6 ms to hash the files whole): so the lines are sorted in C, the
    few to change are found by position (paths outside site-packages and quoted ones sort
    first, the dist-info files by bisection), and only the RECORD files pip wrote, with their
    bytecode, are filtered line by line. CPython's own _blake2 loads in 0.2 ms, where hashlib's
    OpenSSL sha256 needs 3 ms to import.
    """
    from bisect import bisect_left

    lines = record_text.splitlines()
    if ".pyc" in record_text:
        lines = [line for line in lines if ".pyc," not in line and '.pyc",' not in line]
    lines.sort()
    for name in _INSTALLER_WRITTEN:
        prefix = dist_info + "/" + name + ","
        at = bisect_left(lines, prefix)
        if at < len(lines) and lines[at].startswith(prefix):
            del lines[at]
    first = 0
    while first < len(lines) and lines[first][:1] in ('"', ".", ""):
        for path, digest in _record_entries(lines[first]):
            if path.endswith(".pyc"):
                lines[first] = ""
            elif path.lstrip("./").startswith(_SCRIPT_FOLDERS):
                lines[first] = path
            else:
                lines[first] = path + "," + digest
        first += 1
    text = "\n".join(sorted(line for line in lines[:first] if line) + lines[first:])
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - a Python built without BLAKE2
        import hashlib

        return "files-sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return "files-blake2b-256:" + blake2b(text.encode(), digest_size=32).hexdigest()


def _sha256_urlsafe(data):
    import base64
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _modified(site, record_text):
    changed = []
    for path, digest in _record_entries(record_text):
        if not digest.startswith("sha256=") or path.endswith(".pyc"):
            continue
        data = _read(os.path.join(site, path))
        if data is None:
            changed.append(path + " (missing)")
        elif _sha256_urlsafe(data) != digest[len("sha256=") :]:
            changed.append(path)
    return changed


def _dist_info(site, entry, deep):
    folder = os.path.join(site, entry)
    # Name and Version open every METADATA file written by a build tool: read its head only.
    metadata = os.path.join(folder, "METADATA")
    headers = _headers(_head(metadata, 1024) or "", {"name", "version"})
    if "name" not in headers or "version" not in headers:
        headers = _headers(_head(metadata, 1 << 20) or "", {"name", "version"})
    name = headers.get("name")
    version = headers.get("version")
    if not name or not version:
        stem = entry[: -len(".dist-info")]
        name, _, version = stem.partition("-")
    wheel_text = _text(os.path.join(folder, "WHEEL")) or ""
    wheel = _headers(wheel_text)
    wheel_tags = sorted(
        line.split(":", 1)[1].strip()
        for line in wheel_text.splitlines()
        if line.lower().startswith("tag:")
    )
    purelib = wheel.get("root-is-purelib")
    record = _read(os.path.join(folder, "RECORD"))
    record_text = record.decode("utf-8", "replace") if record is not None else None
    installer = (_text(os.path.join(folder, "INSTALLER")) or "").strip() or None
    return {
        "name": normalize(name),
        "version": version,
        "installer": installer,
        "requested": os.path.exists(os.path.join(folder, "REQUESTED")),
        "source": _source(folder),
        "wheel_tags": wheel_tags,
        "pure": None if purelib is None else purelib.lower() == "true",
        "record_digest": None if record_text is None else _record_digest(record_text, entry),
        "top_level": _top_level(site, folder, record_text, normalize(name)),
        "modified_files": (_modified(site, record_text or "") if deep else None),
    }


def _egg_info(site, entry):
    folder = os.path.join(site, entry)
    if os.path.isdir(folder):
        headers = _headers(
            _head(os.path.join(folder, "PKG-INFO"), 1 << 20) or "", {"name", "version"}
        )
        top = _text(os.path.join(folder, "top_level.txt")) or ""
    else:  # a single PKG-INFO file named *.egg-info
        headers = _headers(_head(folder, 1 << 20) or "", {"name", "version"})
        top = ""
    name = headers.get("name") or entry.split("-", 1)[0]
    return {
        "name": normalize(name),
        "version": headers.get("version") or "0",
        "installer": None,
        "requested": None,
        "source": {
            "kind": "directory" if entry.endswith(".egg-link") else "index",
            "url": None,
            "commit": None,
            "vcs": None,
            "archive_hash": None,
        },
        "wheel_tags": [],
        "pure": None,
        "record_digest": None,
        "top_level": sorted({line.strip() for line in top.splitlines() if line.strip()}),
        "modified_files": None,
    }


def search_path():
    seen, folders = set(), []
    for entry in sys.path[1:] if sys.path and sys.path[0] in ("", os.getcwd()) else sys.path:
        folder = os.path.abspath(entry or os.getcwd())
        if folder not in seen and os.path.isdir(folder):
            seen.add(folder)
            folders.append(folder)
    return folders


def read_distribution(site: str, entry: str, deep: bool = False) -> "dict[str, object] | None":
    """The distribution whose metadata is ``entry`` (a .dist-info or .egg-info) in ``site``;
    None for any other entry."""
    found: dict[str, object] | None = None
    if entry.endswith(".dist-info"):
        found = _dist_info(site, entry, deep)
    elif entry.endswith(".egg-info"):
        found = _egg_info(site, entry)
    return found


def distributions(deep=False, skipped=None, read=None):
    """Every distribution on sys.path; ``read`` (default ``read_distribution``) reads one, so a
    caller may answer from what it kept of an unchanged entry."""
    read = read or read_distribution
    found: dict[str, dict[str, object]] = {}
    for site in search_path():
        try:
            entries = os.listdir(site)
        except OSError as exc:  # it exists (search_path checked): unreadable, its packages unseen
            _skip(skipped, "packages in " + site, exc)
            continue
        for entry in entries:
            dist = read(site, entry, deep)
            if dist is None:
                continue
            # The first one on sys.path is what imports; later copies are shadowed.
            found.setdefault(dist["name"], dist)
    return [found[name] for name in sorted(found)]


# native libraries and accelerators ------------------------------------------------------------
def _native_api(filename):
    lowered = filename.lower()
    found = [(lowered.find(api), rank, api) for rank, api in enumerate(NATIVE_APIS)]
    found = [hit for hit in found if hit[0] >= 0]
    return min(found)[2] if found else None


def _first_version(text):
    r"""The first "N.N.N" in ``text`` (what ``re.search(r"\d+\.\d+\.\d+")`` finds)."""
    for start in range(len(text)):
        if not text[start].isdigit() or (start and text[start - 1].isdigit()):
            continue
        end, groups = start, 0
        while groups < 3:
            digits = end
            while end < len(text) and text[end].isdigit():
                end += 1
            if end == digits:
                break
            groups += 1
            if groups < 3:
                if end < len(text) and text[end] == ".":
                    end += 1
                else:
                    break
        if groups == 3:
            return text[start:end]
    return None


def _library(filename, package):
    api = _native_api(filename)
    if api is None:
        return None
    internal = {
        "mkl_rt": "mkl",
        "mkl_core": "mkl",
        "gomp": "openmp",
        "iomp5": "openmp",
        "libomp": "openmp",
        "omp": "openmp",
    }.get(api, api)
    # A version in the name before ".so" (libopenblas64_p-r0-…3.23.dev.so); what follows ".so" is
    # the soname's ABI number, not the library's version.
    stem = filename
    for suffix in (".so", ".dylib", ".dll"):
        if suffix in stem:
            stem = stem[: stem.index(suffix)]
    return {
        "user_api": "openmp" if internal == "openmp" else "blas",
        "internal_api": internal,
        "version": _first_version(stem),
        "num_threads": None,
        "threading_layer": None,
        "architecture": None,
        "filename": filename,
        "package": package,
    }


def native_libraries(skipped=None):
    found: dict[str, dict[str, object]] = {}
    for site in search_path():
        for folder in NATIVE_FOLDERS:
            path = os.path.join(site, folder)
            try:
                names = os.listdir(path)
            except (FileNotFoundError, NotADirectoryError):
                continue  # no such package here: nothing to report
            except OSError as exc:
                _skip(skipped, "native libraries in " + path, exc)
                continue
            package = normalize(folder.split("/")[0].replace(".libs", ""))
            for filename in names:
                if ".so" in filename or filename.endswith((".dylib", ".dll")):
                    library = _library(filename, package)
                    if library:
                        found.setdefault(filename, library)
    return [found[name] for name in sorted(found)]


def loaded_libraries(skipped=None):
    """BLAS/OpenMP versions and thread counts from threadpoolctl, after importing numpy and scipy.

    Costly (imports numpy/scipy), so only a deep capture calls it. A package that is installed
    but fails to import (a native library missing, say) is noted in ``skipped``.
    """
    what = "loaded BLAS/OpenMP libraries (threadpoolctl)"
    try:
        import threadpoolctl
    except Exception as exc:  # the target has no threadpoolctl, or a broken one
        _skip(skipped, what, exc)
        return []
    for module in ("numpy", "scipy.linalg", "sklearn"):
        try:
            __import__(module)
        except Exception as exc:
            top = module.split(".")[0]
            if not (isinstance(exc, ModuleNotFoundError) and exc.name == top):
                _skip(skipped, "importing " + module + " for its native libraries", exc)
    try:
        info = threadpoolctl.threadpool_info()
    except Exception as exc:
        _skip(skipped, what, exc)
        return []
    found = []
    for lib in info:
        found.append(
            {
                "user_api": lib.get("user_api"),
                "internal_api": lib.get("internal_api"),
                "version": lib.get("version"),
                "num_threads": lib.get("num_threads"),
                "threading_layer": lib.get("threading_layer"),
                "architecture": lib.get("architecture"),
                "filename": os.path.basename(lib.get("filepath") or ""),
                "package": None,
            }
        )
    return found


def merge_libraries(static, loaded):
    by_name = {lib["filename"]: lib for lib in static}
    for lib in loaded:
        known = by_name.get(lib["filename"])
        if known is not None:
            lib["package"] = known["package"]
        by_name[lib["filename"]] = lib
    return [by_name[name] for name in sorted(by_name)]


DRIVER_FILES = ("/sys/module/nvidia/version", "/proc/driver/nvidia/version")


def driver_version(module_text, proc_text):
    """The NVIDIA kernel module's version, from /sys/module/nvidia/version ("550.54.14") or the
    banner in /proc/driver/nvidia/version ("NVRM version: NVIDIA UNIX x86_64 Kernel Module
    550.54.14  Thu Feb 22 …")."""
    if module_text and module_text.strip():
        return module_text.strip()
    if not proc_text:
        return None
    import re

    match = re.search(r"Kernel Module\s+(?:for \S+\s+)?(\d+(?:\.\d+)+)", proc_text or "")
    return match.group(1) if match else None


def torch_cuda(version_py):
    """The CUDA version torch was built with, from torch/version.py (``cuda = '12.1'``)."""
    if not version_py:
        return None
    import re

    match = re.search(r"^cuda\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", version_py, re.M)
    return match.group(1) if match else None


def tensorflow_cuda(build_info_py):
    """(CUDA, cuDNN) TensorFlow was built with, from tensorflow/python/platform/build_info.py."""
    import re

    found = []
    for key in ("cuda_version", "cudnn_version"):
        match = re.search(r"['\"]" + key + r"['\"]\s*:\s*['\"]([^'\"]+)", build_info_py or "")
        found.append(match.group(1) if match else None)
    return found[0], found[1]


def gpu_names(smi_output):
    return [line.strip() for line in (smi_output or "").splitlines() if line.strip()]


def _query_gpus(skipped=None):
    import shutil
    import subprocess

    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    what = "GPU names (nvidia-smi)"
    try:
        result = subprocess.run(
            [smi, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        _skip(skipped, what, exc)
        return []
    if result.returncode != 0:
        # e.g. "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver"
        said = (result.stderr.strip() or result.stdout.strip()).splitlines()
        _skip(skipped, what, "exit " + str(result.returncode) + (": " + said[0] if said else ""))
        return []
    return gpu_names(result.stdout)


def accelerators(dists, driver_files=DRIVER_FILES, skipped=None):
    # Everything is read as text: importing torch or tensorflow takes seconds and may need a GPU.
    driver = driver_version(_text(driver_files[0]), _text(driver_files[1]))
    cuda = cudnn = None
    for site in search_path():
        cuda = cuda or torch_cuda(_text(os.path.join(site, "torch", "version.py")))
        info = _text(os.path.join(site, "tensorflow", "python", "platform", "build_info.py"))
        if info:
            tf_cuda, tf_cudnn = tensorflow_cuda(info)
            cuda, cudnn = cuda or tf_cuda, cudnn or tf_cudnn
    # Frameworks that load CUDA from NVIDIA's wheels (torch, jax) name the versions there.
    for dist in sorted(dists, key=lambda d: d["name"]):
        if dist["name"].startswith("nvidia-cudnn-cu") and cudnn is None:
            cudnn = dist["version"]
        if dist["name"].startswith("nvidia-cuda-runtime-cu") and cuda is None:
            cuda = ".".join(dist["version"].split(".")[:2])
    # nvidia-smi only runs where a driver is loaded: elsewhere it cannot answer anyway.
    gpus = _query_gpus(skipped) if driver else []
    return {"nvidia_driver": driver, "cuda_runtime": cuda, "cudnn": cudnn, "gpus": gpus}


def numerics():
    return {name: os.environ[name] for name in NUMERICS_VARIABLES if name in os.environ}


def collect(deep: bool = False, read=None) -> "dict[str, object]":
    libc_family, libc_version = _glibc()
    skipped: list[dict[str, str]] = []
    dists = distributions(deep, skipped, read)
    loaded = loaded_libraries(skipped) if deep else []
    document = {
        "interpreter": interpreter(libc_family, libc_version),
        "platform": platform_facts(libc_family, libc_version),
        "distributions": dists,
        "native": merge_libraries(native_libraries(skipped), loaded),
        "accelerators": accelerators(dists, skipped=skipped),
        "numerics": numerics(),
        "deep": deep,
    }
    if skipped:  # as in the record: absent when the capture is complete
        document["skipped"] = skipped
    return document


# JSON string escapes as json.dumps writes them: quote, backslash and every control character.
_ESCAPES = {code: f"\\u{code:04x}" for code in (*range(32), 127)}
_ESCAPES.update({8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"})
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\"})


def _string(text):
    text = text.translate(_ESCAPES)
    if not text.isascii():  # ASCII-only output, whatever the target's stdout encoding is
        escaped = []
        for char in text:
            code = ord(char)
            if code < 0x80:
                escaped.append(char)
            elif code < 0x10000:
                escaped.append(f"\\u{code:04x}")
            else:
                code -= 0x10000
                high, low = 0xD800 | code >> 10, 0xDC00 | code & 0x3FF
                escaped.append(f"\\u{high:04x}\\u{low:04x}")
        text = "".join(escaped)
    return '"' + text + '"'


def dumps(value):
    """JSON for the record's plain values (what ``json.dumps(..., sort_keys=True)`` gives,
    without importing json and re into the target)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(_string(key) + ":" + dumps(item) for key, item in items) + "}"
    raise TypeError(f"the probe has no JSON form for {value!r}")


def main(argv):
    sys.stdout.write(dumps(collect(deep="--deep" in argv)))


if __name__ == "__main__":
    main(sys.argv)
