"""The Open Inference Protocol (KServe v2, Triton's HTTP API): health, metadata and inference.

Paths: ``/v2`` (server metadata), ``/v2/health/live|ready``, and for the served model
``/v2/models/{name}`` (metadata), ``.../ready`` and ``.../infer``, each also under
``/versions/{version}``. An inference request carries one tensor per input column, named after
it (shape [rows] or [rows, 1]), or a single [rows, columns] tensor in training column order; in
JSON or with the binary tensor data extension (``oip_tensors``). The answer names the model's
outputs as its metadata does, only those requested when ``outputs`` is given, and echoes the
request's ``id``. Errors are ``{"error": message}``: 400 for a request that is not the model's
input, 404 for another model or version.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parity.serve.column_rules import Kind, PayloadError
from parity.serve.decoder import RequestDecoder
from parity.serve.oip_tensors import (
    HEADER_LENGTH,
    InferenceRequest,
    Tensor,
    datatype_of,
    read_request,
    write_response,
)
from parity.serve.prediction import Decoded, Endpoint, Matrix, PredictionCore, Refused
from parity.serve.responses import error_response, json_response
from parity.serve.state import Readiness, ServingState, parity_version

EXTENSIONS = ("binary_tensor_data",)
# Which tensor datatypes a column of each kind takes.
_ACCEPTED = {
    Kind.NUMBER: ("FP", "INT", "UINT"),
    Kind.INTEGER: ("INT", "UINT"),
    Kind.BOOLEAN: ("BOOL",),
    Kind.STRING: ("BYTES",),
}
_NUMERIC_DATATYPES = ("FP", "INT", "UINT", "BOOL")


def decode_tensors(decoder: RequestDecoder, tensors: tuple[Tensor, ...]) -> Matrix:
    columns = decoder.columns
    if len(tensors) == 1 and tensors[0].name not in columns:
        tensor = tensors[0]
        array = tensor.array
        if len(columns) == 1 and array.ndim == 1:
            array = array.reshape(-1, 1)
        if array.ndim != 2 or array.shape[1] != len(columns):
            raise PayloadError(f"tensor {tensor.name!r} must have shape [rows, {len(columns)}]")
        if decoder.dtype.kind == "f" and not tensor.datatype.startswith(_NUMERIC_DATATYPES):
            raise PayloadError(f"tensor {tensor.name!r} is {tensor.datatype}; send numbers")
        return decoder.from_array(array, f"tensor {tensor.name!r}")
    by_name = {t.name: t for t in tensors}
    arrays = []
    for name, kind in zip(decoder.require_columns(by_name), decoder.rules.kinds, strict=True):
        tensor = by_name[name]
        if kind in _ACCEPTED and not tensor.datatype.startswith(_ACCEPTED[kind]):
            raise PayloadError(
                f"tensor {name!r} is {tensor.datatype}; the column takes {kind.value}"
            )
        if tensor.array.ndim > 2 or (tensor.array.ndim == 2 and tensor.array.shape[1] != 1):
            raise PayloadError(f"tensor {name!r} must have shape [rows] or [rows, 1]")
        arrays.append(tensor.array.reshape(-1))
    if len({len(a) for a in arrays}) != 1:
        raise PayloadError("every input tensor must have the same number of rows")
    if decoder.dtype.kind == "f":
        return decoder.from_array(np.column_stack(arrays).astype(np.float64), "the tensors")
    matrix = np.empty((len(arrays[0]), len(arrays)), dtype=object)
    for index, array in enumerate(arrays):
        matrix[:, index] = array.tolist()
    return decoder.from_array(matrix, "the tensors")


def routes(state: ServingState, core: PredictionCore) -> list[Route]:
    decoder, readiness = state.decoder, state.readiness
    name, version = state.version.name, str(state.version.version)
    signature = state.record.signature
    outputs = [(c.name, c.dtype) for c in signature.outputs] if signature else []
    output_names = [n for n, _ in outputs] or ["prediction"]

    def output_tensors(predictions: Matrix) -> dict[str, Matrix]:
        """The predictions as the metadata's outputs: one, or one per column of a 2-D answer."""
        if predictions.ndim == 2 and predictions.shape[1] == len(output_names) > 1:
            return {n: predictions[:, i] for i, n in enumerate(output_names)}
        return {output_names[0]: predictions}

    def decode(request: Request, body: bytes) -> Decoded:
        inference = read_request(body, request.headers.get(HEADER_LENGTH))
        for output in inference.outputs or ():
            if output.name not in output_names:
                raise Refused(
                    f"no output named {output.name!r}; this model's outputs: "
                    + ", ".join(output_names),
                    400,
                )

        def reply(predictions: Matrix) -> Response:
            return answer(inference, output_tensors(predictions))

        return Decoded(decode_tensors(decoder, inference.inputs), reply, inference.id)

    def answer(inference: InferenceRequest, tensors: dict[str, Matrix]) -> Response:
        header: dict[str, Any] = {"model_name": name, "model_version": version}
        if inference.id is not None:
            header["id"] = inference.id
        wanted = (
            [(n, inference.binary_outputs) for n in tensors]
            if inference.outputs is None
            else [(o.name, o.binary) for o in inference.outputs]
        )
        return write_response(header, [(n, tensors[n], binary) for n, binary in wanted])

    def this_model(request: Request) -> Response | None:
        """404 unless the path names the served model (and its version, where it names one)."""
        asked = request.path_params["model_name"]
        if asked != name:
            return error_response(
                f"no model named {asked!r} here; this server serves {name!r}", 404
            )
        asked_version = request.path_params.get("version")
        if asked_version is not None and asked_version != version:
            return error_response(
                f"no version {asked_version!r} of {name!r} here; this server serves version"
                f" {version}",
                404,
            )
        return None

    predict = core.endpoint("infer", decode, payload_status=400)

    async def infer(request: Request) -> Response:
        # An unknown model is 404 even before the server is ready: the request can never succeed.
        return this_model(request) or await predict(request)

    def column(spec_name: str, dtype: str) -> dict[str, Any]:
        return {"name": spec_name, "datatype": datatype_of(dtype), "shape": [-1]}

    model_document = {
        "name": name,
        "versions": [version],
        "platform": state.record.flavor,
        "inputs": [column(c.name, c.dtype) for c in (signature.inputs if signature else ())],
        "outputs": [column(n, d) for n, d in outputs],
    }

    async def model_metadata(request: Request) -> Response:
        return this_model(request) or json_response(model_document)

    async def model_ready(request: Request) -> Response:
        refused = this_model(request)
        if refused is not None:
            return refused
        return json_response({"name": name, "ready": readiness.ready}, _ready_status(readiness))

    async def server_metadata(_request: Request) -> Response:
        return json_response(
            {"name": "parity", "version": parity_version(), "extensions": list(EXTENSIONS)}
        )

    async def live(_request: Request) -> Response:
        return json_response({"live": True})

    async def ready(_request: Request) -> Response:
        return json_response({"ready": readiness.ready}, _ready_status(readiness))

    model_routes: list[tuple[str, Endpoint, str]] = [
        ("/infer", infer, "POST"),
        ("", model_metadata, "GET"),
        ("/ready", model_ready, "GET"),
    ]
    return [
        *(
            Route(f"/v2/models/{{model_name}}{prefix}{suffix}", handler, methods=[method])
            for prefix in ("", "/versions/{version}")
            for suffix, handler, method in model_routes
        ),
        Route("/v2", server_metadata, methods=["GET"]),
        Route("/v2/health/live", live, methods=["GET"]),
        Route("/v2/health/ready", ready, methods=["GET"]),
    ]


def _ready_status(readiness: Readiness) -> int:
    return 200 if readiness.ready else 503
