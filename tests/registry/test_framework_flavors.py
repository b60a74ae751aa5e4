"""The ONNX and PyTorch flavors, end to end, in a venv that has those frameworks.

Parity's own environment has neither (they are not in the lock), so a real venv with Parity,
onnx, onnxruntime and the CPU build of torch runs each scenario as a subprocess. torch comes
from the wheel this machine kind keeps in /opt/wheels (uv would otherwise fetch a CUDA build).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.env.conftest import build_venv

ROOT = Path(__file__).resolve().parents[2]
WHEELS = Path("/opt/wheels")
TORCH = "torch==2.13.0+cpu"
LINKS = ("--find-links", str(WHEELS))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def onnx_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_venv(
        tmp_path_factory.mktemp("venvs") / "frameworks", "-e", str(ROOT), "onnx", "onnxruntime"
    )


@pytest.fixture(scope="session")
def torch_venv(onnx_venv: Path) -> Path:
    if not any(WHEELS.glob("torch-2.13.0+cpu-*.whl")):
        if IN_CI:
            pytest.fail(f"CI must have the CPU torch wheel in {WHEELS}")
        pytest.skip(f"no CPU torch wheel in {WHEELS}: the PyTorch flavor is checked where it is")
    from uv import find_uv_bin

    subprocess.run(
        [find_uv_bin(), "pip", "install", "-q", "--python", str(onnx_venv), TORCH, *LINKS],
        check=True,
    )
    return onnx_venv


def _run(python: Path, script: str, folder: Path) -> dict[str, Any]:
    """Run ``script`` with ``python`` in a fresh workspace at ``folder``; return its JSON line."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "check.py").write_text(script)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    done = subprocess.run(
        [str(python), "check.py"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


SETUP = """
import json
import numpy as np
import parity
from parity.api import models
from parity.workspace import init_workspace

workspace, _ = init_workspace()
rows = np.array([[1.0, 2.0], [3.0, 1.0], [0.5, -4.0]], dtype=np.float32)


def register(name, model):
    model_id, record = models.save(model, input_example=rows, workspace=workspace)
    workspace.registry.register(name, model_id, workspace.actor())
    workspace.registry.set_alias(name, 1, "production", workspace.actor(), reason="test")
    return record
"""

ONNX = (
    SETUP
    + """
from onnx import TensorProto, helper, numpy_helper

weights = np.array([[2.0], [-1.0]], dtype=np.float32)
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "w"], ["y"])],
    "linear",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])],
    [numpy_helper.from_array(weights, "w")],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
record = register("linear", model)
loaded = parity.load_model("linear@production")
print(json.dumps({
    "flavor": record.flavor,
    "requirements": sorted(record.requirements),
    "golden": record.golden_predictions is not None,
    "outputs": [c.dtype for c in record.signature.outputs],
    "expected": (rows @ weights).tolist(),
    "predicted": loaded.predict(rows).tolist(),
}))
"""
)

TORCH_SCRIPT = (
    SETUP
    + """
import torch
from nets import Scaled

torch.manual_seed(0)
scriptable = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
unscriptable = Scaled()
results = {}
for name, module in (("scripted", scriptable), ("state", unscriptable)):
    record = register(name, module)
    loaded = parity.load_model(f"{name}@production")
    with torch.no_grad():
        expected = module(torch.as_tensor(rows)).numpy().tolist()
    results[name] = {
        "format": record.loader["format"],
        "flavor": record.flavor,
        "requirements": sorted(record.requirements),
        "expected": expected,
        "predicted": loaded.predict(rows).tolist(),
        "module": type(loaded.module).__name__,
    }
print(json.dumps(results))
"""
)

# *inputs cannot be compiled by TorchScript: this module is saved as its state_dict and class.
NETS = """
import torch


class Scaled(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor([[0.5], [2.0]]))

    def forward(self, *inputs):
        return inputs[0] @ self.scale
"""


def test_an_onnx_graph_round_trips_and_predicts(onnx_venv: Path, tmp_path: Path) -> None:
    result = _run(onnx_venv, ONNX, tmp_path / "onnx")
    assert result["flavor"] == "onnx"
    assert {"onnxruntime", "numpy"} <= set(result["requirements"])
    assert result["golden"]  # golden rows come from the saved graph: it has no predict()
    assert result["outputs"] == ["float32"]
    assert result["predicted"] == result["expected"]


def test_torch_modules_round_trip_as_torchscript_or_state_dict(
    torch_venv: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "torch"
    folder.mkdir()
    (folder / "nets.py").write_text(NETS)
    result = _run(torch_venv, TORCH_SCRIPT, folder)
    scripted, state = result["scripted"], result["state"]
    assert (scripted["flavor"], scripted["format"]) == ("pytorch", "torchscript")
    assert (state["flavor"], state["format"]) == ("pytorch", "state_dict")
    for case in (scripted, state):
        assert "torch" in case["requirements"]
        assert case["predicted"] == case["expected"]  # same bytes, same CPU kernels
    assert state["module"] == "Scaled"
    assert scripted["module"] == "RecursiveScriptModule"
