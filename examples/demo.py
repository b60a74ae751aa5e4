"""The end-to-end demo behind `make demo`: the whole local story, on the embedded default.

In a fresh git repository (build/demo) it drives the real `parity` command as a user would:
version a dataset, train in a tracked run, register the model, promote it, verify environments,
export and restore the model's environment, reproduce the training run, load the model, serve
it, catch drift in what it is sent, export it for Kubernetes, roll a canary back, flag the
model when the labels that come back for its predictions say it is wrong, and refuse a promotion
that lacks an approval and a passing gate.

Everything the user runs runs in a small venv of its own (build/demo-env): Parity installed from
a wheel of this checkout with only the extras the demo needs, at the versions uv.lock pins, and
none of the dev tools (ruff, mypy, moto) of .venv. So the model is recorded in an environment
that can be exported and restored as it is, and its image can serve it. uv builds that venv from
its cache (offline when the cache holds everything).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DEMO = ROOT / "build" / "demo"
DEMO_ENV = ROOT / "build" / "demo-env"  # the venv the user's commands run in
WHEELS = ROOT / "build" / "demo-wheels"  # Parity's own wheel, built from this checkout
DEMO_PYTHON = DEMO_ENV / "bin" / "python"
# Runtime extras only: scikit-learn models, the server, drift profiles, and uv for export.
EXTRAS = ("sklearn", "serve", "monitor", "uv")
DATASET = "data/breast_cancer.csv"
# Step 15's policy: the release alias moves only to a version whose 'ci' gate passed and that
# someone other than its registrant approved.
PROMOTION_POLICY = """\
[gate]
name = "ci"

[[gate.checks]]
kind = "metric"
model = "bc/3"
metric = "accuracy"
min = 0.9

[promote.release]
gates = ["ci"]
approvals = 1
"""
BOLD, DIM, RESET = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "", "")


def step(title: str) -> None:
    print(f"\n{BOLD}== {title}{RESET}", flush=True)


def note(text: str) -> None:
    print(f"{DIM}# {text}{RESET}", flush=True)


def _environ(user: str | None = None) -> dict[str, str]:
    # A developer's Parity settings must not leak into the demo's own workspace.
    kept = {k: v for k, v in os.environ.items() if not k.startswith("PARITY_")}
    return kept if user is None else {**kept, "PARITY_USER": user}


def show(
    shown: str,
    command: Sequence[str],
    expect: int | tuple[int, ...] = 0,
    quiet: bool = False,
    user: str | None = None,
) -> str:
    """Run ``command`` in the demo repository, printed as ``$ shown`` with its output; as
    ``user`` (PARITY_USER) when given, else as the login user."""
    print(f"$ {f'PARITY_USER={user} ' if user else ''}{shown}", flush=True)
    result = subprocess.run(
        command, cwd=DEMO, env=_environ(user), capture_output=True, text=True, check=False
    )
    if not quiet:
        sys.stdout.write(result.stdout)
    sys.stdout.write(result.stderr)
    sys.stdout.flush()
    allowed = (expect,) if isinstance(expect, int) else expect
    if result.returncode not in allowed:
        sys.exit(f"demo failed: '{shown}' exited {result.returncode}, expected {allowed}")
    return result.stdout


def parity(
    *args: str, expect: int | tuple[int, ...] = 0, quiet: bool = False, user: str | None = None
) -> str:
    return show(
        "parity " + " ".join(_quote(a) for a in args),
        [str(DEMO_PYTHON), "-m", "parity", *args],
        expect,
        quiet,
        user,
    )


def python(script: str, *args: str) -> str:
    return show(f"python {' '.join((script, *args))}", [str(DEMO_PYTHON), script, *args])


def _uv(*args: str) -> None:
    """Run uv from the cache first (offline), and ask the index only for what it lacks."""
    uv = str(Path(sys.executable).parent / "uv")
    for offline in (["--offline"], []):
        done = subprocess.run([uv, *args, *offline], cwd=ROOT, capture_output=True, text=True)
        if done.returncode == 0:
            return
    sys.exit(f"demo failed: uv {' '.join(args)}: {done.stderr.strip()}")


def build_demo_env() -> None:
    """build/demo-env: Parity's wheel and its runtime extras at their locked versions."""
    shutil.rmtree(DEMO_ENV, ignore_errors=True)
    shutil.rmtree(WHEELS, ignore_errors=True)
    requirements = ROOT / "build" / "demo-requirements.txt"
    extras = [option for extra in EXTRAS for option in ("--extra", extra)]
    _uv("build", "--wheel", "--quiet", "--out-dir", str(WHEELS))
    _uv(
        "export", "--frozen", "--quiet", "--no-dev", "--no-emit-project", "--no-header", *extras,
        "--format", "requirements-txt", "--output-file", str(requirements),
    )  # fmt: skip
    base = getattr(sys, "_base_executable", sys.executable)
    _uv("venv", "--quiet", "--python", base, str(DEMO_ENV))
    _uv(
        "pip",
        "sync",
        "--quiet",
        "--python",
        str(DEMO_PYTHON),
        "--require-hashes",
        str(requirements),
    )
    # From a folder of wheels, as from an index: a pinned, hashable package, not a local path.
    _uv(
        "pip", "install", "--quiet", "--python", str(DEMO_PYTHON), "--no-deps", "--no-index",
        "--find-links", str(WHEELS), "parity-ml",
    )  # fmt: skip


def write_drifted_environment(path: Path) -> None:
    """This environment's fingerprint with scikit-learn one minor version back: the environment
    of a model made elsewhere. (Its id is left out: the content decides it when it is read.)"""
    document = json.loads(path.read_text())
    del document["id"]
    for distribution in document["body"]["distributions"]:
        if distribution["name"] == "scikit-learn":
            major, minor, *_ = distribution["version"].split(".")
            distribution["version"] = f"{major}.{max(int(minor) - 1, 0)}.0"
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


def _quote(arg: str) -> str:
    return f'"{arg}"' if " " in arg else arg


def git(*args: str) -> None:
    identity = ["-c", "user.name=Parity Demo", "-c", "user.email=demo@example.com"]
    subprocess.run(["git", *identity, *args], cwd=DEMO, check=True, capture_output=True)


def write_dataset(path: Path) -> None:
    """The bundled dataset: scikit-learn's breast-cancer table, shipped inside the package."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(url: str, body: Any = None) -> tuple[int, bytes]:
    status, answer, _ = http_with_id(url, body)
    return status, answer


def http_with_id(url: str, body: Any = None) -> tuple[int, bytes, str]:
    """The status, body and request id (``X-Request-Id``) of a request to the demo's server."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"the demo only talks to its own server on loopback, not {url}")
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - checked
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - checked
            return response.status, response.read(), response.headers.get("X-Request-Id", "")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("X-Request-Id", "")


def serve_and_send(
    shifted: list[dict[str, float]], rows: list[dict[str, float]]
) -> list[tuple[str, int]]:
    """Serve bc@production, send it ``shifted`` in requests of 100 rows; each row's request id
    and its place in that request."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = ["serve", "bc@production", "--port", str(port), "--log-sample", "1"]
    print(f"$ parity {' '.join(command)} &", flush=True)
    server = subprocess.Popen(
        [str(DEMO_PYTHON), "-m", "parity", *command], cwd=DEMO, env=_environ(), text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                sys.exit(f"demo failed: parity serve exited {server.returncode}")
            try:
                if http(f"{base}/v2/health/ready")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit("demo failed: parity serve was not ready within 60 s")
            time.sleep(0.2)
        print(f"$ curl {base}/health")
        print(http(f"{base}/health")[1].decode())
        print(f"$ curl -X POST {base}/predict -d '<2 rows>'")
        status, answer = http(f"{base}/predict", rows[:2])
        print(f"{status} {answer.decode()}")
        print(f"$ curl -X POST {base}/invocations -d '{{\"dataframe_split\": <2 rows>}}'")
        columns = list(rows[0])
        split = {"columns": columns, "data": [[r[c] for c in columns] for r in rows[:2]]}
        status, answer = http(f"{base}/invocations", {"dataframe_split": split})
        print(f"{status} {answer.decode()}")
        note(f"production traffic: {len(shifted)} rows whose 'mean radius' drifted upwards")
        answered: list[tuple[str, int]] = []
        for start in range(0, len(shifted), 100):
            batch = shifted[start : start + 100]
            status, answer, request_id = http_with_id(f"{base}/predict", batch)
            if status != 200:
                sys.exit(f"demo failed: /predict answered {status}: {answer.decode()}")
            answered.extend((request_id, row) for row in range(len(batch)))
        print(f"$ curl {base}/metrics | grep ^parity_")
        metrics = http(f"{base}/metrics")[1].decode().splitlines()
        shown = [line for line in metrics if line.startswith("parity_")]
        # The histogram buckets and creation times are for Prometheus, not for reading here.
        brief = [line for line in shown if not any(k in line for k in ("_bucket", "_created"))]
        for line in brief:
            print(line)
        note(f"... and {len(shown) - len(brief)} histogram bucket and creation-time lines")
        return answered
    finally:
        print("$ kill %1", flush=True)
        server.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly: the log is flushed
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> None:
    started = time.monotonic()
    if DEMO.exists():
        shutil.rmtree(DEMO)
    DEMO.mkdir(parents=True)
    git("init", "-q", "-b", "main")

    step("0. A venv for the demo: Parity and its runtime extras as uv.lock pins them, no dev tools")
    build_demo_env()
    note(
        f"{DEMO_ENV.relative_to(ROOT)}: {', '.join(EXTRAS)} extras; every command below runs there"
    )

    step("1. A workspace at the root of a git repository")
    parity("init")

    step("2. Version the bundled dataset next to git")
    write_dataset(DEMO / DATASET)
    parity("data", "add", DATASET)
    shutil.copy(EXAMPLES / "train.py", DEMO / "train.py")
    git("add", "-A")
    git("commit", "-q", "-m", "Train a breast-cancer classifier")
    note("git now versions train.py and the small pointer data/breast_cancer.csv.parity")

    step("3. Train in a tracked run: params, metrics, input data version, code, environment")
    out = python("train.py", DATASET)
    run_id = out.split()[1]
    parity("runs", "show", run_id[:16])

    step("4. Register the run's model, promote it, lock it")
    parity("models", "register", run_id[:16], "--name", "bc")
    parity("models", "alias", "bc", "1", "production", "--reason", "first release")
    parity("models", "lock", "bc", "1", "--reason", "serving in production")
    parity("models", "alias", "bc", "1", "staging", "--reason", "qa")
    parity("models", "history", "bc")

    step("5. What made bc@production")
    parity("models", "lineage", "bc@production")

    step("6. Is this environment safe for the model? (it was trained here: yes)")
    parity("models", "verify", "bc@production")

    step("7. And for a model made where scikit-learn was one minor version back? (no)")
    parity("env", "capture", "--no-store", "-o", "drifted_environment.json", quiet=True)
    write_drifted_environment(DEMO / "drifted_environment.json")
    note("drifted_environment.json: this environment's fingerprint, scikit-learn one minor back")
    parity("env", "verify", "drifted_environment.json", expect=1)

    step("8. Export the model's environment: a PEP 751 lock, and an image that serves the model")
    note("Parity itself comes from a wheel of this checkout, which no index serves: --wheels")
    wheels = ("--wheels", os.path.relpath(WHEELS, DEMO))
    parity("env", "export", "bc@production", "--format", "pylock", "-o", "pylock.toml", *wheels)
    lock = (DEMO / "pylock.toml").read_text().splitlines()
    print("$ head -4 pylock.toml")
    print("\n".join(lock[:4]))
    dockerfile = ("--format", "dockerfile", "-o", "image/Dockerfile")
    parity("env", "export", "bc@production", *dockerfile, *wheels)
    print("$ tail -5 image/Dockerfile")
    print("\n".join((DEMO / "image" / "Dockerfile").read_text().splitlines()[-5:]))
    hadolint = Path(sys.executable).parent / "hadolint"
    if hadolint.exists():
        show("hadolint image/Dockerfile", [str(hadolint), "image/Dockerfile"])
        note("hadolint found nothing to say")

    step("8b. Restore it into a new venv: the exact files, then verified against the record")
    restored = os.path.relpath(ROOT / "build" / "demo-restored", DEMO)
    parity("env", "restore", "bc@production", "--venv", restored, *wheels)

    step("8c. Reproduce the training run in a fresh venv: its code, data and environment again")
    shutil.rmtree(ROOT / "build" / "demo-repro", ignore_errors=True)
    fresh = os.path.relpath(ROOT / "build" / "demo-repro", DEMO)
    parity("repro", run_id[:16], "--venv", fresh, *wheels)
    note("the same model predictions and metrics, from a worktree of the commit and a new venv")

    step("9. Load the model by alias (every blob hash-checked, the environment verified)")
    (DEMO / "predict.py").write_text(
        "import pandas as pd\nimport parity\n\n"
        'model = parity.load_model("bc@production")\n'
        f'rows = pd.read_csv("{DATASET}").drop(columns="target").sample(6, random_state=3)\n'
        'print("predictions:", model.predict(rows).tolist())\n'
    )
    python("predict.py")

    step("10. Serve it on 127.0.0.1 (start-up gate: environment and golden predictions)")
    import pandas as pd

    table = pd.read_csv(DEMO / DATASET)
    frame = table.drop(columns="target")
    traffic = table.sample(1_000, replace=True, random_state=1).reset_index(drop=True)
    truth, shifted = traffic.pop("target"), traffic
    shifted["mean radius"] += 0.75 * frame["mean radius"].std()
    answered = serve_and_send(
        shifted.to_dict(orient="records"), frame.head(2).to_dict(orient="records")
    )

    step("11. Drift: logged inputs against the training data version's profile")
    note("no --reference: the training data is found through the model's run")
    parity("monitor", "drift", "bc@production", expect=1)

    step("12. Export it for Kubernetes: image context and manifests that carry its lineage")
    started_export = time.monotonic()
    parity("deploy", "export", "bc@production", "--target", "kubernetes", "-o", "deploy", *wheels)
    note(f"deploy export took {time.monotonic() - started_export:.1f} s")
    deployment = (DEMO / "deploy" / "kubernetes" / "deployment.yaml").read_text().splitlines()
    print("$ grep -m 6 parity-ml/ deploy/kubernetes/deployment.yaml")
    print("\n".join([line for line in deployment if "parity-ml/" in line][:6]))
    parity("models", "lineage", "bc@production")

    step("13. A canary goes wrong: canary moves bc/2 → bc/3, then rolls back (audited)")
    parity("models", "register", run_id[:16], "--name", "bc")
    parity("models", "register", run_id[:16], "--name", "bc")
    parity("models", "alias", "bc", "2", "canary", "--reason", "first canary")
    parity("models", "alias", "bc", "3", "canary", "--reason", "next canary")
    parity("models", "rollback", "bc@canary", "--reason", "p95 latency doubled")
    parity("models", "history", "bc")

    step("14. Feedback: labels come back, 30 % wrong: performance flagged")
    labels = truth.to_numpy().copy()
    wrong = pd.Series(range(len(labels))).sample(frac=0.3, random_state=2).to_numpy()
    labels[wrong] = 1 - labels[wrong]
    pd.DataFrame(
        {
            "request_id": [request_id for request_id, _ in answered],
            "row": [row for _, row in answered],
            "label": labels,
        }
    ).to_csv(DEMO / "labels.csv", index=False)
    note("labels.csv: the X-Request-Id of each served request, the row in it, its true label")
    parity("monitor", "feedback", "bc@production", "labels.csv", "--row-column", "row")
    note("accuracy is compared with the training run's own figure; 5 % worse is degraded")
    parity("monitor", "performance", "bc@production", expect=1)

    step("15. A promotion without approval is refused")
    (DEMO / "parity.toml").write_text(PROMOTION_POLICY)
    print("$ cat parity.toml")
    print(PROMOTION_POLICY, end="")
    parity("models", "alias", "bc", "3", "release", "--reason", "ready to ship", expect=4)
    note("a second user approves (the registrant's own approval would not count)")
    parity("models", "approve", "bc", "3", "--reason", "read the eval report", user="reviewer")
    parity("gate", "--model", "bc/3")
    parity("models", "alias", "bc", "3", "release", "--reason", "approved, ci green")
    parity("models", "history", "bc")

    print(f"\nDemo finished in {time.monotonic() - started:.0f} s: every step above ran for real.")


if __name__ == "__main__":
    main()
