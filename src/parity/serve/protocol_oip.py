"""The Open Inference Protocol (KServe v2): inference, model metadata and health under ``/v2``.

An inference request carries one [rows, columns] tensor, or one tensor per column named after
it; the answer is one ``predict`` tensor. JSON tensors only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parity.serve.decoder import PayloadError, RequestDecoder
from parity.serve.prediction import Matrix, PredictionCore
from parity.serve.responses import error_response, json_response
from parity.serve.state import ServingState

_INPUT_TYPES = {
    "FP64": np.float64,
    "FP32": np.float32,
    "INT64": np.int64,
    "INT32": np.int32,
    "BOOL": np.bool_,
    "BYTES": np.object_,
}
_OUTPUT_TYPES = {"f": "FP64", "i": "INT64", "u": "UINT64", "b": "BOOL", "O": "BYTES", "U": "BYTES"}


def decode_inference_request(decoder: RequestDecoder, payload: Any) -> Matrix:
    tensors = payload.get("inputs") if isinstance(payload, Mapping) else None
    if not isinstance(tensors, list) or not tensors:
        raise PayloadError("an inference request needs a non-empty 'inputs' list")
    if len(tensors) == 1 and len(decoder.columns) != 1:
        tensor = tensors[0]
        shape = tensor.get("shape") or []
        data = np.asarray(tensor.get("data"), dtype=_input_type(tensor))
        if len(shape) != 2 or shape[1] != len(decoder.columns):
            raise PayloadError(
                f"tensor {tensor.get('name')!r} must have shape [rows, {len(decoder.columns)}]"
            )
        return decoder.from_array(data.reshape(shape), "tensor")
    by_name = {str(t.get("name")): t for t in tensors}
    return decoder.from_column_lists(
        {name: by_name[name]["data"] for name in decoder.require_columns(by_name)}
    )


def _input_type(tensor: Mapping[str, Any]) -> Any:
    datatype = str(tensor.get("datatype", "FP64"))
    if datatype not in _INPUT_TYPES:
        raise PayloadError(f"unsupported datatype {datatype!r}")
    return _INPUT_TYPES[datatype]


def routes(state: ServingState, core: PredictionCore) -> list[Route]:
    decoder, readiness = state.decoder, state.readiness
    name, version = state.version.name, str(state.version.version)

    async def decode(request: Request) -> Matrix:
        return decode_inference_request(decoder, orjson.loads(await request.body()))

    def encode(predictions: Matrix) -> Response:
        output = {
            "name": "predict",
            "shape": list(predictions.shape),
            "datatype": _OUTPUT_TYPES.get(predictions.dtype.kind, "BYTES"),
            "data": predictions.reshape(-1),
        }
        return json_response({"model_name": name, "model_version": version, "outputs": [output]})

    predict = core.endpoint("infer", decode, encode)

    async def infer(request: Request) -> Response:
        # An unknown model is 404 even before the server is ready: the request can never succeed.
        model_name = request.path_params["model_name"]
        if model_name != name:
            return error_response(
                f"no model named {model_name!r} here; this server serves {name!r}", 404
            )
        return await predict(request)

    async def model_metadata(request: Request) -> Response:
        model_name = request.path_params["model_name"]
        if model_name != name:
            return error_response(f"no model named {model_name!r} here", 404)
        signature = state.record.signature
        inputs = signature.inputs if signature else ()
        outputs = signature.outputs if signature else ()
        return json_response(
            {
                "name": name,
                "versions": [version],
                "platform": state.record.flavor,
                "inputs": [{"name": c.name, "datatype": c.dtype, "shape": [-1]} for c in inputs],
                "outputs": [{"name": c.name, "datatype": c.dtype, "shape": [-1]} for c in outputs],
            }
        )

    async def live(_request: Request) -> Response:
        return json_response({"live": True})

    async def ready(_request: Request) -> Response:
        return json_response({"ready": readiness.ready}, 200 if readiness.ready else 503)

    return [
        Route("/v2/models/{model_name}/infer", infer, methods=["POST"]),
        Route("/v2/models/{model_name}", model_metadata, methods=["GET"]),
        Route("/v2/health/live", live, methods=["GET"]),
        Route("/v2/health/ready", ready, methods=["GET"]),
    ]
