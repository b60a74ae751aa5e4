"""Open Inference Protocol tensors in and out: JSON, and the binary tensor data extension.

With the extension (tritonclient's default) a request's body is its JSON header, whose length
the ``Inference-Header-Content-Length`` header gives, then the raw bytes of each input whose
``parameters.binary_data_size`` says how many, in input order: little-endian values, or for
``BYTES`` each element as a 4-byte little-endian length and its bytes. Outputs are written the
same way when the request asks (``parameters.binary_data_output``, or an output's
``parameters.binary_data``). Everything a request declares is checked against what it carries,
so a malformed one is a ``PayloadError`` naming the tensor, never a server error.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from starlette.responses import Response

from parity.serve.column_rules import PayloadError
from parity.serve.responses import jsonable

HEADER_LENGTH = "Inference-Header-Content-Length"
# Binary layout of each datatype; JSON values are read as the widest type of their family.
BINARY_TYPES: dict[str, np.dtype[Any]] = {
    name: np.dtype(code)
    for name, code in (
        ("BOOL", "?"),
        ("UINT8", "u1"),
        ("UINT16", "<u2"),
        ("UINT32", "<u4"),
        ("UINT64", "<u8"),
        ("INT8", "i1"),
        ("INT16", "<i2"),
        ("INT32", "<i4"),
        ("INT64", "<i8"),
        ("FP16", "<f2"),
        ("FP32", "<f4"),
        ("FP64", "<f8"),
    )
}
DATATYPES = (*BINARY_TYPES, "BYTES")
_JSON_READING: dict[str, tuple[frozenset[type], Any]] = {
    "BOOL": (frozenset({bool}), np.bool_),
    "UINT": (frozenset({int}), np.uint64),
    "INT": (frozenset({int}), np.int64),
    "FP": (frozenset({int, float}), np.float64),
    "BYTES": (frozenset({str}), object),
}
_NUMPY_TO_DATATYPE = {dtype.newbyteorder("<"): name for name, dtype in BINARY_TYPES.items()}


def datatype_of(dtype: Any) -> str:
    """The protocol's name for a NumPy dtype (or a dtype string); text and objects are BYTES."""
    try:
        return _NUMPY_TO_DATATYPE.get(np.dtype(dtype).newbyteorder("<"), "BYTES")
    except TypeError:
        return "BYTES"


@dataclass(frozen=True)
class Tensor:
    name: str
    datatype: str
    array: np.ndarray[Any, Any]  # in the request's shape


@dataclass(frozen=True)
class RequestedOutput:
    name: str
    binary: bool


@dataclass(frozen=True)
class InferenceRequest:
    id: str | None
    inputs: tuple[Tensor, ...]
    outputs: tuple[RequestedOutput, ...] | None  # None: every output, binary if `binary_outputs`
    binary_outputs: bool


def read_request(body: bytes, header_length: str | None) -> InferenceRequest:
    if header_length is None:
        header, binary = body, b""
    else:
        if not (header_length.isascii() and header_length.isdigit()):
            raise PayloadError(f"{HEADER_LENGTH} must be a byte count, got {header_length!r}")
        if int(header_length) > len(body):
            raise PayloadError(f"{HEADER_LENGTH} is {header_length}, the body {len(body)} bytes")
        header, binary = body[: int(header_length)], body[int(header_length) :]
    document = orjson.loads(header)
    if not isinstance(document, dict):
        raise PayloadError("an inference request is a JSON object")
    request_id = document.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise PayloadError("'id' must be a string")
    parameters = _parameters(document, "the request")
    binary_outputs = _flag(parameters, "binary_data_output", "the request")
    tensors = document.get("inputs")
    if not isinstance(tensors, list) or not tensors:
        raise PayloadError("an inference request needs a non-empty 'inputs' list")
    inputs, offset = [], 0
    for tensor in tensors:
        read, offset = _read_tensor(tensor, binary, offset)
        inputs.append(read)
    if offset != len(binary):
        raise PayloadError(
            f"{len(binary)} bytes follow the JSON header, the inputs' binary_data_size add up"
            f" to {offset}"
        )
    return InferenceRequest(
        request_id, tuple(inputs), _requested_outputs(document, binary_outputs), binary_outputs
    )


def _read_tensor(tensor: Any, binary: bytes, offset: int) -> tuple[Tensor, int]:
    if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
        raise PayloadError("each input is an object with a 'name', 'shape', 'datatype' and data")
    name, datatype, shape = tensor["name"], tensor.get("datatype"), tensor.get("shape")
    if datatype not in DATATYPES:
        raise PayloadError(f"unsupported datatype {datatype!r} for input {name!r}")
    if (
        not isinstance(shape, list)
        or not shape
        or not all(type(n) is int and n >= 0 for n in shape)
    ):
        raise PayloadError(f"input {name!r} needs a 'shape': a list of sizes, e.g. [rows, 30]")
    count = math.prod(shape)
    size = _parameters(tensor, f"input {name!r}").get("binary_data_size")
    if size is None:
        array = _from_json(name, datatype, tensor.get("data"), count, len(shape))
    else:
        if type(size) is not int or size < 0:
            raise PayloadError(f"input {name!r}: binary_data_size must be a byte count")
        if "data" in tensor:
            raise PayloadError(f"input {name!r} has both 'data' and binary_data_size")
        chunk = binary[offset : offset + size]
        if len(chunk) != size:
            raise PayloadError(f"input {name!r} claims {size} bytes, {len(chunk)} are left")
        array, offset = _from_bytes(name, datatype, chunk, count), offset + size
    return Tensor(name, datatype, array.reshape(shape)), offset


def _from_json(name: str, datatype: str, data: Any, count: int, dims: int) -> np.ndarray[Any, Any]:
    if not isinstance(data, list):
        raise PayloadError(f"input {name!r} needs 'data': a list of values")
    for _ in range(dims - 1):  # nested row-major lists are flattened, one level per dimension
        if data and all(isinstance(item, list) for item in data):
            data = [value for item in data for value in item]
    if len(data) != count:
        raise PayloadError(f"input {name!r} has {len(data)} values; its shape holds {count}")
    accepted, dtype = _JSON_READING[datatype.rstrip("0123456789")]
    if not set(map(type, data)) <= accepted:
        wrong = next(v for v in data if type(v) not in accepted)
        raise PayloadError(f"input {name!r} is {datatype} but holds {_shown(wrong)}")
    try:
        return np.array(data, dtype=dtype)
    except OverflowError:
        raise PayloadError(f"input {name!r} holds a value out of {datatype}'s range") from None


def _shown(value: Any) -> str:
    """A JSON value as the client wrote it, cut short: a hostile one can be megabytes."""
    text = orjson.dumps(value).decode()
    return text if len(text) <= 40 else text[:37] + "..."


def _from_bytes(name: str, datatype: str, chunk: bytes, count: int) -> np.ndarray[Any, Any]:
    if datatype != "BYTES":
        dtype = BINARY_TYPES[datatype]
        if len(chunk) != count * dtype.itemsize:
            raise PayloadError(
                f"input {name!r}: {len(chunk)} bytes for {count} {datatype} values"
                f" ({count * dtype.itemsize} expected)"
            )
        array = np.frombuffer(chunk, dtype=dtype)
        return array != 0 if datatype == "BOOL" else array  # any non-zero byte is true
    values, at = [], 0
    while at < len(chunk):
        if at + 4 > len(chunk):
            raise PayloadError(f"input {name!r}: a BYTES element's length is cut off")
        (length,) = struct.unpack_from("<I", chunk, at)
        element = chunk[at + 4 : at + 4 + length]
        if len(element) != length:
            raise PayloadError(f"input {name!r}: a BYTES element is cut off")
        try:
            values.append(element.decode("utf-8"))
        except UnicodeDecodeError:
            raise PayloadError(f"input {name!r}: BYTES elements must be UTF-8 text") from None
        at += 4 + length
    if len(values) != count:
        raise PayloadError(f"input {name!r} has {len(values)} elements; its shape holds {count}")
    array = np.empty(count, dtype=object)
    array[:] = values
    return array


def _parameters(document: Mapping[str, Any], what: str) -> Mapping[str, Any]:
    parameters = document.get("parameters")
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise PayloadError(f"'parameters' of {what} must be an object")
    return parameters


def _flag(parameters: Mapping[str, Any], name: str, what: str) -> bool:
    value = parameters.get(name, False)
    if type(value) is not bool:
        raise PayloadError(f"parameter {name!r} of {what} must be true or false")
    return value


def _requested_outputs(
    document: Mapping[str, Any], binary: bool
) -> tuple[RequestedOutput, ...] | None:
    outputs = document.get("outputs")
    if outputs is None:
        return None
    if not isinstance(outputs, list):
        raise PayloadError("'outputs' must be a list of {'name': ...} objects")
    requested = []
    for output in outputs:
        if not isinstance(output, dict) or not isinstance(output.get("name"), str):
            raise PayloadError("each requested output is an object with a 'name'")
        what = f"output {output['name']!r}"
        parameters = _parameters(output, what)
        flag = _flag(parameters, "binary_data", what) if "binary_data" in parameters else binary
        requested.append(RequestedOutput(output["name"], flag))
    return tuple(requested)


def write_response(
    header: dict[str, Any], outputs: list[tuple[str, np.ndarray[Any, Any], bool]]
) -> Response:
    """``header`` (model name, version, id) with ``outputs`` (name, array, binary) as tensors."""
    tensors, chunks = [], []
    for name, array, binary in outputs:
        tensor: dict[str, Any] = {
            "name": name,
            "datatype": datatype_of(array.dtype),
            "shape": list(array.shape),
        }
        if binary:
            chunk = _to_bytes(tensor["datatype"], array)
            tensor["parameters"] = {"binary_data_size": len(chunk)}
            chunks.append(chunk)
        else:
            tensor["data"] = jsonable(array.reshape(-1))
        tensors.append(tensor)
    document = orjson.dumps({**header, "outputs": tensors}, option=orjson.OPT_SERIALIZE_NUMPY)
    if not chunks:
        return Response(document, media_type="application/json")
    return Response(
        document + b"".join(chunks),
        media_type="application/octet-stream",
        headers={HEADER_LENGTH: str(len(document))},
    )


def _to_bytes(datatype: str, array: np.ndarray[Any, Any]) -> bytes:
    if datatype != "BYTES":
        return np.ascontiguousarray(array, dtype=BINARY_TYPES[datatype]).tobytes()
    parts = []
    for value in array.reshape(-1).tolist():
        encoded = value if isinstance(value, bytes) else str(value).encode("utf-8")
        parts.append(struct.pack("<I", len(encoded)) + encoded)
    return b"".join(parts)
