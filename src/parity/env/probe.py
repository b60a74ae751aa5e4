"""Fingerprint the Python environment this file runs in, using the standard library only.

Run inside a *target* interpreter (``python -c <this source>``) so Parity need not be installed
there, or imported and called in-process for the running interpreter. It reads dist-info and
egg-info files directly in one pass (importlib.metadata is several times slower), never imports
a framework, and reads no environment variable except the allow-listed numerics ones. The output
is the ``Environment`` record's dictionary form, printed as JSON.

Keep this file compatible with Python 3.8: it may run in an older target interpreter.
"""

import base64
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
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
NATIVE_LIBRARY = re.compile(
    r"(?P<api>openblas|mkl_rt|mkl_core|blis|flexiblas|accelerate|gomp|iomp5|libomp|omp)", re.I
)
NATIVE_FOLDERS = ("numpy.libs", "scipy.libs", "scikit_learn.libs", "torch/lib", "numpy/.libs")
_NAME_NORMALIZE = re.compile(r"[-_.]+")


def _read(path, limit=None):
    try:
        with open(path, "rb") as handle:
            return handle.read() if limit is None else handle.read(limit)
    except OSError:
        return None


def _text(path, limit=None):
    data = _read(path, limit)
    return None if data is None else data.decode("utf-8", "replace")


def normalize(name):
    return _NAME_NORMALIZE.sub("-", name).lower()


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


def _wheel_tags(libc_family, libc_version):
    version = f"{sys.version_info[0]}{sys.version_info[1]}"
    impl = {"cpython": "cp", "pypy": "pp"}.get(sys.implementation.name, sys.implementation.name)
    abi = (impl + version + getattr(sys, "abiflags", "")) if impl == "cp" else "none"
    machine = platform.machine().lower()
    plats = []
    if sys.platform.startswith("linux"):
        if libc_family == "glibc" and libc_version:
            major, minor = libc_version.split(".")[:2]
            plats.append(f"manylinux_{major}_{minor}_{machine}")
        elif libc_family == "musl":
            plats.append(f"musllinux_1_2_{machine}")
        plats.append(f"linux_{machine}")
    elif sys.platform == "darwin":
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
        "version": platform.python_version(),
        "abi": sysconfig.get_config_var("SOABI"),
        "wheel_tags": _wheel_tags(libc_family, libc_version),
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
        model = platform.processor() or None
    return model, sorted(flags)


def _os_release():
    text = _text("/etc/os-release") or ""
    for line in text.splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    if sys.platform == "darwin":
        return "macOS " + platform.mac_ver()[0]
    return platform.platform(terse=True) or None


def platform_facts(libc_family, libc_version):
    model, flags = _cpu()
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = None
    return {
        "system": platform.system(),
        "kernel": platform.release(),
        "os_release": _os_release(),
        "libc_family": libc_family,
        "libc_version": libc_version,
        "machine": platform.machine(),
        "cpu_model": model,
        "cpu_flags": flags,
        "cpu_count": os.cpu_count(),
        "cpu_affinity": affinity,
    }


# distributions ----------------------------------------------------------------------------------
def _headers(text):
    found = {}
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and key not in found:
            found[key.strip().lower()] = value.strip()
    return found


def _source(folder):
    text = _text(os.path.join(folder, "direct_url.json"))
    if not text:
        return {"kind": "index", "url": None, "commit": None, "vcs": None, "archive_hash": None}
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


def _top_level(site, folder, record_text, name):
    text = _text(os.path.join(folder, "top_level.txt"))
    if text is not None:
        return sorted({line.strip() for line in text.splitlines() if line.strip()})
    found = set()
    for path, _ in _record_entries(record_text or ""):
        head = path.split("/", 1)[0]
        if head.endswith(".pth") and "/" not in path:
            # An editable install points at its source folder through a .pth file.
            for line in (_text(os.path.join(site, head)) or "").splitlines():
                if line and not line.startswith(("#", "import ")):
                    found |= _modules_in(line.strip())
            continue
        if head.endswith((".dist-info", ".egg-info", ".data", ".pth")) or head in (
            "..",
            "__pycache__",
            "",
        ):
            continue
        if "/" in path or head.endswith(".py") or head.endswith((".so", ".pyd")):
            found.add(head.split(".", 1)[0])
    return sorted(found) or [name.replace("-", "_")]


def _modified(site, record_text):
    changed = []
    for path, digest in _record_entries(record_text):
        if not digest.startswith("sha256=") or path.endswith(".pyc"):
            continue
        data = _read(os.path.join(site, path))
        if data is None:
            changed.append(path + " (missing)")
            continue
        actual = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        if actual != digest[len("sha256=") :]:
            changed.append(path)
    return changed


def _dist_info(site, entry, deep):
    folder = os.path.join(site, entry)
    headers = _headers(_text(os.path.join(folder, "METADATA"), 8192) or "")
    name = headers.get("name")
    version = headers.get("version")
    if not name or not version:
        stem = entry[: -len(".dist-info")]
        name, _, version = stem.partition("-")
    wheel = _headers(_text(os.path.join(folder, "WHEEL")) or "")
    wheel_tags = sorted(
        line.split(":", 1)[1].strip()
        for line in (_text(os.path.join(folder, "WHEEL")) or "").splitlines()
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
        "record_digest": None if record is None else "sha256:" + hashlib.sha256(record).hexdigest(),
        "top_level": _top_level(site, folder, record_text, normalize(name)),
        "modified_files": (_modified(site, record_text or "") if deep else None),
    }


def _egg_info(site, entry):
    folder = os.path.join(site, entry)
    if os.path.isdir(folder):
        headers = _headers(_text(os.path.join(folder, "PKG-INFO"), 8192) or "")
        top = _text(os.path.join(folder, "top_level.txt")) or ""
    else:  # a single PKG-INFO file named *.egg-info
        headers = _headers(_text(folder, 8192) or "")
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


def distributions(deep=False):
    found: dict[str, dict[str, object]] = {}
    for site in search_path():
        try:
            entries = os.listdir(site)
        except OSError:
            continue
        for entry in entries:
            if entry.endswith(".dist-info"):
                dist = _dist_info(site, entry, deep)
            elif entry.endswith(".egg-info"):
                dist = _egg_info(site, entry)
            else:
                continue
            # The first one on sys.path is what imports; later copies are shadowed.
            found.setdefault(dist["name"], dist)
    return [found[name] for name in sorted(found)]


# native libraries and accelerators ------------------------------------------------------------
def _library(filename, package):
    match = NATIVE_LIBRARY.search(filename)
    if not match:
        return None
    api = match.group("api").lower()
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
    version = re.search(r"(\d+\.\d+\.\d+)", re.split(r"\.(?:so|dylib|dll)", filename)[0])
    return {
        "user_api": "openmp" if internal == "openmp" else "blas",
        "internal_api": internal,
        "version": version.group(1) if version else None,
        "num_threads": None,
        "threading_layer": None,
        "architecture": None,
        "filename": filename,
        "package": package,
    }


def native_libraries():
    found: dict[str, dict[str, object]] = {}
    for site in search_path():
        for folder in NATIVE_FOLDERS:
            path = os.path.join(site, folder)
            try:
                names = os.listdir(path)
            except OSError:
                continue
            package = normalize(folder.split("/")[0].replace(".libs", ""))
            for filename in names:
                if ".so" in filename or filename.endswith((".dylib", ".dll")):
                    library = _library(filename, package)
                    if library:
                        found.setdefault(filename, library)
    return [found[name] for name in sorted(found)]


def loaded_libraries():
    """BLAS/OpenMP versions and thread counts from threadpoolctl, after importing numpy and scipy.

    Costly (imports numpy/scipy), so only a deep capture calls it.
    """
    try:
        import threadpoolctl

        for module in ("numpy", "scipy.linalg", "sklearn"):
            try:
                __import__(module)
            except Exception:
                continue
        info = threadpoolctl.threadpool_info()
    except Exception:
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


def accelerators(dists):
    driver = None
    text = _text("/sys/module/nvidia/version") or ""
    if text.strip():
        driver = text.strip()
    else:
        match = re.search(
            r"Kernel Module\s+(\d+(?:\.\d+)+)", _text("/proc/driver/nvidia/version") or ""
        )
        driver = match.group(1) if match else None
    by_name = {d["name"]: d for d in dists}
    cuda = cudnn = None
    for site in search_path():
        version = _text(os.path.join(site, "torch", "version.py"))
        if version:
            match = re.search(r"^cuda\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", version, re.M)
            cuda = cuda or (match.group(1) if match else None)
        info = _text(os.path.join(site, "tensorflow", "python", "platform", "build_info.py"))
        if info:
            match = re.search(r"['\"]cuda_version['\"]\s*:\s*['\"]([^'\"]+)", info)
            cuda = cuda or (match.group(1) if match else None)
            match = re.search(r"['\"]cudnn_version['\"]\s*:\s*['\"]([^'\"]+)", info)
            cudnn = cudnn or (match.group(1) if match else None)
    for name in sorted(by_name):
        if name.startswith("nvidia-cudnn-cu") and cudnn is None:
            cudnn = by_name[name]["version"]
        if name.startswith("nvidia-cuda-runtime-cu") and cuda is None:
            cuda = ".".join(by_name[name]["version"].split(".")[:2])
    gpus = []
    smi = shutil.which("nvidia-smi") if driver else None
    if smi:
        try:
            output = subprocess.run(
                [smi, "--query-gpu=name", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout
            gpus = [line.strip() for line in output.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            gpus = []
    return {"nvidia_driver": driver, "cuda_runtime": cuda, "cudnn": cudnn, "gpus": gpus}


def numerics():
    return {name: os.environ[name] for name in NUMERICS_VARIABLES if name in os.environ}


def collect(deep: bool = False) -> "dict[str, object]":
    libc_family, libc_version = _glibc()
    dists = distributions(deep)
    return {
        "interpreter": interpreter(libc_family, libc_version),
        "platform": platform_facts(libc_family, libc_version),
        "distributions": dists,
        "native": merge_libraries(native_libraries(), loaded_libraries() if deep else []),
        "accelerators": accelerators(dists),
        "numerics": numerics(),
        "deep": deep,
    }


if __name__ == "__main__":
    json.dump(collect(deep="--deep" in sys.argv), sys.stdout, sort_keys=True)
