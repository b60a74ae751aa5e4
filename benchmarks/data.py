"""Data versioning: Parity vs DVC 3.67 on the same generated data, side by side in one run.

(a) 20,000 files of 1-16 KB: cold add, incremental add after rewriting 1 % of them, then after
    rewriting one file, and status of the unchanged tree (the first right after the add, and the
    median of five), each a whole process (start-up included), for both tools;
(b) one 2 GiB file: add for both, and Parity's chunk-and-hash pass next to a bare pyfastcdc +
    blake3 loop over the same file (in this process, alternating), with the CPU seconds of each
    and of the pass's three pieces of work timed alone (what bounds the pass on two free cores);
(c) five versions of a ~410 MB CSV, each with ~1 % of the rows modified and ~1 % appended, once
    with the edits clustered in a few regions and once scattered: DVC's cache, Parity's object
    store (as configured by default, with ``[data] deltas = false`` and with ``[data] compress =
    false``), and the FastCDC unique-bytes lower bound (the sizes of the distinct chunks of all
    five versions summed); then the checkout of the fifth version into an empty place (median of
    the rounds), by default, with ``deltas = false`` and by the compared install if any.

Data is generated once under .bench/data/ and reused. Both tools run with bytecode caching on (as
installed tools do), each in a fresh workspace for the cold steps.

    python -m benchmarks data                        (full size: ~10 GB of disk under .bench)
    BENCH_DATA_SCALE=0.05 python -m benchmarks data  (a small run, to debug)
    BENCH_DATA_PARTS=b python -m benchmarks data     (only part (b); any of "abc")
    BENCH_DATA_COMPARE=/other/venv/bin/python ...    (parts (a) and (c) also time that Parity
                                                      install, in the same rounds: a "before")
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._support import BENCH, ROOT, clean_env, table, tool_venv

SCALE = float(os.environ.get("BENCH_DATA_SCALE", "1"))
DATA = BENCH / "data"
RUNS = DATA / "runs"
SMALL_FILES = max(200, int(20_000 * SCALE))
BIG_SIZE = max(64 << 20, int((2 << 30) * SCALE))
CSV_ROWS = max(20_000, int(6_450_000 * SCALE))  # ~410 MB: rows average ~64 bytes
VERSIONS = 5
ROUNDS = int(os.environ.get("BENCH_DATA_ROUNDS", "3"))  # medians: the machine is shared
PARITY = [str(ROOT / ".venv" / "bin" / "parity")]
PARTS = os.environ.get("BENCH_DATA_PARTS", "abc")  # e.g. "b" runs only the 2 GiB file
# Another Parity install's python, timed beside this one in part (a)'s rounds (e.g. main's venv).
COMPARE = os.environ.get("BENCH_DATA_COMPARE", "")


def parities() -> dict[str, list[str]]:
    """The Parity commands part (a) times: this checkout's, and the compared install's."""
    found = {"parity": PARITY}
    if COMPARE:
        found["compared"] = [str(Path(COMPARE).parent / "parity")]
    return found


def env() -> dict[str, str]:
    environ = clean_env(DVC_NO_ANALYTICS="1")
    environ.pop("PYTHONDONTWRITEBYTECODE", None)  # installed tools keep their bytecode cache
    return environ


def dvc() -> list[str]:
    return [str(tool_venv("dvc", "dvc==3.67.*").parent / "dvc")]


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one whole process."""
    os.sync()  # start each tool with no one else's dirty pages to write back
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env(), capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"{command} failed: {result.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run(command: list[str], cwd: Path) -> str:
    result = subprocess.run(command, cwd=cwd, env=env(), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{command} failed: {result.stderr[-2000:]}")
    return result.stdout


def fresh(name: str, tools: dict[str, list[str]] | None = None) -> dict[str, Path]:
    """Empty workspaces for DVC and each Parity in ``tools`` (default: this one)."""
    spaces = {}
    for tool, command in {**(tools or {"parity": PARITY}), "dvc": dvc()}.items():
        folder = RUNS / name / tool
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        if tool == "dvc":
            run([*command, "init", "--no-scm", "-q"], folder)
        else:
            run([*command, "init", "."], folder)
        spaces[tool] = folder
    return spaces


def du(folder: Path, skip: str = "tmp") -> int:
    total = 0
    for path, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d != skip]
        total += sum((Path(path) / name).stat().st_size for name in files)
    return total


def cell(wall: float, cpu: float) -> str:
    return f"{wall:.2f} s (cpu {cpu:.2f})"


# (a) many small files --------------------------------------------------------------------------
def small_files() -> Path:
    source = DATA / f"small-{SMALL_FILES}"
    if (source / ".complete").exists():
        return source
    shutil.rmtree(source, ignore_errors=True)
    rng = random.Random(5)
    for index in range(SMALL_FILES):
        folder = source / f"part{index % 100:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file{index:05d}.bin").write_bytes(rng.randbytes(rng.randint(1000, 16000)))
    (source / ".complete").write_text("")
    return source


def rewrite(spaces: dict[str, Path], rng: random.Random, indexes: list[int]) -> None:
    """The same new content for the same files in every tool's copy."""
    for index in indexes:
        content = rng.randbytes(rng.randint(1000, 16000))
        for folder in spaces.values():
            (folder / "small" / f"part{index % 100:02d}" / f"file{index:05d}.bin").write_bytes(
                content
            )


def small_round(source: Path) -> dict[str, dict[str, tuple[float, float]]]:
    """One round of (a) in fresh workspaces: cold add, 1 % rewritten, add, one file rewritten,
    add, status x5."""
    tools = parities()
    spaces = fresh("small", tools)
    for folder in spaces.values():
        shutil.copytree(source, folder / "small", ignore=shutil.ignore_patterns(".complete"))
    commands = {
        tool: ([*command, "data", "add", "small"], [*command, "data", "status", "small"])
        for tool, command in tools.items()
    }
    commands["dvc"] = ([*dvc(), "add", "-q", "small"], [*dvc(), "status", "-q"])
    results: dict[str, dict[str, tuple[float, float]]] = {tool: {} for tool in commands}
    for tool, (add, _) in commands.items():
        run([*add[:1], "--version"], spaces[tool])
        results[tool]["cold add"] = timed(add, spaces[tool])
    rng = random.Random(6)
    rewrite(spaces, rng, sorted(rng.sample(range(SMALL_FILES), SMALL_FILES // 100)))
    for tool, (add, _) in commands.items():
        results[tool]["incremental add (1 % rewritten)"] = timed(add, spaces[tool])
    rewrite(spaces, rng, [rng.randrange(SMALL_FILES)])
    for tool, (add, _) in commands.items():
        results[tool]["incremental add (1 file rewritten)"] = timed(add, spaces[tool])
    for tool, (_, status) in commands.items():
        samples = [timed(status, spaces[tool]) for _ in range(5)]
        # The first right after the add: a stat cache that distrusts files written just before
        # it shows here (issue 21), and the median of all five hides it.
        results[tool]["first status after the add"] = samples[0]
        results[tool]["status, unchanged tree"] = median_pair(samples)
    assert "up to date" in run(commands["parity"][1], spaces["parity"])
    return results


def median_pair(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def bench_small() -> str:
    source = small_files()
    print(f"(a) starts at {time.strftime('%H:%M UTC', time.gmtime())}, {load()}", flush=True)
    rounds = [small_round(source) for _ in range(ROUNDS)]
    print(f"(a) ends at {time.strftime('%H:%M UTC', time.gmtime())}, {load()}", flush=True)
    rows = []
    for step in rounds[0]["parity"]:
        ours = median_pair([r["parity"][step] for r in rounds])
        theirs = median_pair([r["dvc"][step] for r in rounds])
        row = [step, cell(*ours), cell(*theirs), f"{theirs[0] / ours[0]:.1f}x"]
        if COMPARE:
            before = median_pair([r["compared"][step] for r in rounds])
            row += [cell(*before), f"{theirs[0] / before[0]:.1f}x"]
        rows.append(tuple(row))
    size = du(source) / 1e6
    header = [
        f"{SMALL_FILES} files, {size:.0f} MB (median of {ROUNDS})",
        "Parity",
        "DVC 3.67",
        "DVC / Parity (wall)",
    ]
    if COMPARE:
        header += ["compared Parity", "DVC / compared (wall)"]
    return table(header, rows)


# (b) one large file ----------------------------------------------------------------------------
def big_file() -> Path:
    path = DATA / f"big-{BIG_SIZE}.bin"
    if path.exists() and path.stat().st_size == BIG_SIZE:
        return path
    with open(path, "wb") as handle:
        remaining = BIG_SIZE
        while remaining:
            block = os.urandom(min(remaining, 64 << 20))
            handle.write(block)
            remaining -= len(block)
    return path


def own_cpu() -> float:
    """CPU seconds (user + system) of this process so far, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bare_pass(path: Path) -> tuple[float, float]:
    import blake3
    from pyfastcdc import FastCDC

    started, cpu = time.perf_counter(), own_cpu()
    for chunk in FastCDC(64 << 10).cut_file(path):
        blake3.blake3(chunk.data).digest()
    return time.perf_counter() - started, own_cpu() - cpu


def parity_pass(path: Path) -> tuple[float, float]:
    from parity.data.hashing import hash_chunks

    started, cpu = time.perf_counter(), own_cpu()
    hash_chunks(str(path))
    return time.perf_counter() - started, own_cpu() - cpu


def pass_pieces(path: Path) -> tuple[float, float, float]:
    """CPU seconds of the three pieces of work Parity's pass runs at once, each timed alone on
    this thread: cutting and hashing the first half, the same for the second half (the halves
    as ``hash_chunks`` splits them), and the whole-file digest. Unlike the pass's wall time,
    these hardly move with what else the machine runs, so they say what the pass would take
    with a core free: at least the longest piece, and at least half their sum."""
    import mmap

    import blake3
    from pyfastcdc import FastCDC

    def cut_and_hash(buffer: memoryview) -> float:
        cpu = time.thread_time()
        for chunk in FastCDC(64 << 10).cut_buf(buffer):
            blake3.blake3(chunk.data).hexdigest()
        return time.thread_time() - cpu

    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
        whole = memoryview(view)
        split = len(whole) // 2
        first, second = cut_and_hash(whole[:split]), cut_and_hash(whole[split:])
        cpu = time.thread_time()
        blake3.blake3(whole).hexdigest()
        digest = time.thread_time() - cpu
        whole.release()
    return first, second, digest


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def bench_big() -> str:
    source = big_file()
    print(f"(b) starts at {time.strftime('%H:%M UTC', time.gmtime())}, {load()}", flush=True)
    parity_adds, dvc_adds, copies, syncs = [], [], [], []
    for _ in range(ROUNDS):
        spaces = fresh("big")
        for folder in spaces.values():
            shutil.copyfile(source, folder / "big.bin")
        parity_adds.append(timed([*PARITY, "data", "add", "big.bin"], spaces["parity"]))
        dvc_adds.append(timed([*dvc(), "add", "-q", "big.bin"], spaces["dvc"]))
        # What the page cache and the disk alone cost here: a kernel copy of the same file,
        # then the sync that writes it out (Parity fsyncs its packs; cp and DVC do not).
        copy = RUNS / "big" / "copy.bin"
        copies.append(timed(["cp", str(source), str(copy)], RUNS))
        copy.unlink()
        syncs.append(timed(["sh", "-c", 'cp "$0" "$1" && sync', str(source), str(copy)], RUNS))
        copy.unlink()
    parity_add, dvc_add = median_pair(parity_adds), median_pair(dvc_adds)
    copy, sync = median_pair(copies), median_pair(syncs)
    bare, ours, pieces = [], [], []
    for _ in range(2 * ROUNDS + 1):
        bare.append(bare_pass(source))
        ours.append(parity_pass(source))
        pieces.append(pass_pieces(source))
    (bare_s, bare_cpu), (ours_s, ours_cpu) = median_pair(bare), median_pair(ours)
    first, second, digest = (statistics.median(piece) for piece in zip(*pieces, strict=True))
    # The pass on two free cores: three pieces of work on two cores, none of which can be split.
    free_cores = max((first + second + digest) / 2, first, second, digest)
    gb = BIG_SIZE / 1e9
    rows = [
        (
            "add (chunk, hash, store)",
            cell(*parity_add),
            cell(*dvc_add),
            f"{dvc_add[0] / parity_add[0]:.1f}x faster",
        ),
        (
            "chunk-and-hash pass",
            f"{ours_s:.2f} s (cpu {ours_cpu:.2f}; {gb / ours_s:.2f} GB/s)",
            f"bare pyfastcdc + blake3: {bare_s:.2f} s (cpu {bare_cpu:.2f}; {gb / bare_s:.2f} GB/s)",
            f"{bare_s / ours_s * 100:.0f} % of bare",
        ),
        (
            "the pass's pieces alone, cpu s: halves + whole-file digest",
            f"{first:.2f} + {second:.2f} + {digest:.2f}",
            f"on two free cores: at least {free_cores:.2f} s",
            f"at most {bare_cpu / free_cores * 100:.0f} % of bare",
        ),
        (
            "for scale: cp of the file (no fsync) / cp then sync",
            "",
            f"cp {cell(*copy)} / cp + sync {cell(*sync)}",
            f"Parity = {parity_add[0] / sync[0]:.1f}x cp + sync",
        ),
    ]
    print(f"(b) ends at {time.strftime('%H:%M UTC', time.gmtime())}, {load()}", flush=True)
    return table(
        [
            f"one {BIG_SIZE / 2**30:.2f} GiB file (median of {ROUNDS})",
            "Parity",
            "DVC 3.67 / bare",
            "ratio",
        ],
        rows,
    )


# (c) versions of a table -----------------------------------------------------------------------
def csv_rows(rng: random.Random, start: int, count: int) -> list[bytes]:
    cities = ["Lisbon", "Oslo", "Quito", "Accra", "Hanoi", "Perth", "Lima", "Riga"]
    return [
        (
            f"{i},{rng.random():.6f},{rng.gauss(0, 1):.6f},{rng.randint(0, 99999)},"
            f"{rng.choice(cities)},customer-{rng.randint(0, 10**9):010d},{rng.random() < 0.5}\n"
        ).encode()
        for i in range(start, start + count)
    ]


def chunk_sizes(path: Path, into: dict[str, int]) -> None:
    import blake3
    from pyfastcdc import FastCDC

    for chunk in FastCDC(64 << 10).cut_file(path):
        into[blake3.blake3(chunk.data).hexdigest()] = chunk.length


def configured(name: str, pattern: str, setting: str) -> Path:
    """A fresh workspace of this Parity with one ``[data]`` setting."""
    folder = RUNS / f"csv-{pattern}" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    run([*PARITY, "init", "."], folder)
    with open(folder / ".parity" / "config.toml", "a") as config:
        config.write(f"\n[data]\n{setting}\n")
    return folder


def checkout_times(spaces: dict[str, tuple[list[str], Path]]) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds of checking table.csv out into an empty place, per space,
    the spaces taking turns in each round."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in spaces}
    for _round in range(ROUNDS):
        for name, (command, folder) in spaces.items():
            (folder / "table.csv").unlink(missing_ok=True)
            samples[name].append(timed([*command, "data", "checkout", "table.csv"], folder))
    return {name: median_pair(found) for name, found in samples.items()}


def bench_versions(pattern: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    rng = random.Random(7 if pattern == "clustered" else 8)
    rows = [b"id,score,noise,amount,city,customer,active\n", *csv_rows(rng, 0, CSV_ROWS)]
    spaces = fresh(f"csv-{pattern}", parities())
    raw = configured("parity-raw", pattern, "compress = false")
    plain = configured("parity-plain", pattern, "deltas = false")
    adders = parities()
    workspaces = {name: spaces[name] for name in adders}
    adders["plain"], workspaces["plain"] = PARITY, plain
    adders["raw"], workspaces["raw"] = PARITY, raw
    distinct: dict[str, int] = {}
    adds: dict[str, tuple[float, float]] = {}  # each tool's last add: the fifth version's
    written = 0
    for version in range(VERSIONS):
        if version:
            count = len(rows) // 100
            if pattern == "clustered":
                for _region in range(3):
                    start = rng.randrange(1, len(rows) - count // 3)
                    for index in range(start, start + count // 3):
                        rows[index] = csv_rows(rng, index, 1)[0]
            else:
                for index in rng.sample(range(1, len(rows)), count):
                    rows[index] = csv_rows(rng, index, 1)[0]
            rows.extend(csv_rows(rng, len(rows), count))
        staged = DATA / "table.csv"
        staged.write_bytes(b"".join(rows))
        written += staged.stat().st_size
        chunk_sizes(staged, distinct)
        for folder in workspaces.values():
            (folder / "table.csv").unlink(missing_ok=True)
            os.link(staged, folder / "table.csv")  # Parity only reads it
        shutil.copyfile(staged, spaces["dvc"] / "table.csv")
        for name, command in adders.items():
            adds[name] = timed([*command, "data", "add", "table.csv"], workspaces[name])
        run([*dvc(), "add", "-q", "table.csv"], spaces["dvc"])
    bound = sum(distinct.values())
    dvc_cache = du(spaces["dvc"] / ".dvc" / "cache")
    ours = du(spaces["parity"] / ".parity" / "objects")
    ours_plain = du(plain / ".parity" / "objects")
    ours_raw = du(raw / ".parity" / "objects")
    timed_spaces = {name: (adders[name], workspaces[name]) for name in adders if name != "raw"}
    times = checkout_times(timed_spaces)
    stored = (
        pattern,
        f"{written / 1e9:.2f} GB",
        f"{dvc_cache / 1e9:.2f} GB",
        f"{ours / 1e9:.3f} GB",
        f"{ours_plain / 1e9:.3f} GB",
        f"{ours_raw / 1e9:.3f} GB",
        f"{bound / 1e9:.3f} GB",
        f"{ours / bound:.2f}x",
        f"{ours_raw / bound:.3f}x",
    )
    checkouts = (
        pattern,
        *(
            cell(*found[name]) if name in found else "-"
            for found in (times, adds)
            for name in ("parity", "plain", "compared")
        ),
        load(),
    )
    shutil.rmtree(RUNS / f"csv-{pattern}", ignore_errors=True)
    return stored, checkouts


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(DATA).free
    if free < 14e9 * SCALE:
        sys.exit(f"benchmarks/data needs ~{14 * SCALE:.0f} GB free under {DATA}; {free / 1e9:.0f}")
    print(f"(scale {SCALE}; machine shared with other work, see the cpu figures)", flush=True)
    if "a" in PARTS:
        print("\n(a) many small files\n" + bench_small(), flush=True)
    if "b" in PARTS:
        print("\n(b) one large file\n" + bench_big(), flush=True)
        shutil.rmtree(RUNS / "big", ignore_errors=True)
    if "c" not in PARTS:
        return
    results = [bench_versions("clustered"), bench_versions("scattered")]
    print(
        "\n(c) five versions of a CSV (~1 % of rows modified and ~1 % appended each)\n"
        + table(
            [
                "edits",
                "5 versions",
                "DVC cache",
                "Parity store",
                "Parity store, deltas = false",
                "Parity store, compress = false",
                "FastCDC lower bound",
                "Parity / bound",
                "uncompressed / bound",
            ],
            [stored for stored, _ in results],
        )
        + "\n\ncheckout of the fifth version into an empty place (median of the rounds), "
        + "and its add (one each)\n"
        + table(
            [
                "edits",
                "checkout: Parity",
                "deltas = false",
                "compared install",
                "add: Parity",
                "deltas = false",
                "compared install",
                "load after",
            ],
            [checkouts for _, checkouts in results],
        ),
        flush=True,
    )
