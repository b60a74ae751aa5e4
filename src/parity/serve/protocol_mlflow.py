"""MLflow's scoring protocol, answered as ``mlflow models serve`` answers it.

``POST /invocations`` takes JSON with exactly one of ``dataframe_split``, ``dataframe_records``,
``instances`` or ``inputs`` (other keys, such as ``params``, are ignored), or a CSV table with a
header row (``Content-Type: text/csv``), and answers ``{"predictions": [...]}``. Errors are
MLflow's document, ``{"error_code": ..., "message": ...}``: 400 ``BAD_REQUEST`` for a request
that is not the model's input, 413 over the body limit, 415 for a charset other than UTF-8, 503
``TEMPORARILY_UNAVAILABLE`` until the start-up checks pass. ``GET /ping`` is MLflow's health
probe (``/health`` is Parity's own, which MLflow also answers there); ``GET /version`` answers
Parity's version.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parity.serve.column_rules import Kind, PayloadError
from parity.serve.decoder import RequestDecoder
from parity.serve.prediction import Decoded, Matrix, PredictionCore, Refused
from parity.serve.responses import json_response, jsonable
from parity.serve.state import ServingState, parity_version

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_ERROR_CODES = {500: "INTERNAL_ERROR", 503: "TEMPORARILY_UNAVAILABLE"}
# The cells pandas.read_csv reads as missing by default (the common ones): null in a CSV body.
_CSV_NULLS = frozenset({"", "NA", "N/A", "n/a", "<NA>", "NaN", "nan", "null", "NULL", "None"})
_CSV_BOOLEANS = {"true": True, "false": False}


def mlflow_error(message: str, status: int) -> Response:
    return json_response(
        {"error_code": _ERROR_CODES.get(status, "BAD_REQUEST"), "message": message}, status
    )


def decode_mlflow_payload(decoder: RequestDecoder, payload: Any) -> Matrix:
    if not isinstance(payload, Mapping):
        raise PayloadError(f"an MLflow payload is a JSON object with one of {', '.join(FORMATS)}")
    present = [key for key in FORMATS if key in payload]
    if len(present) != 1:
        raise PayloadError(
            f"an MLflow payload needs exactly one of {', '.join(FORMATS)}; it has "
            + (", ".join(present) if present else "none")
        )
    key, value = present[0], payload[present[0]]
    if key == "dataframe_split":
        if not isinstance(value, Mapping) or "data" not in value:
            raise PayloadError("dataframe_split needs 'columns' and 'data'")
        return decoder.from_split(value.get("columns", list(decoder.columns)), value["data"])
    if key == "dataframe_records":
        return decoder.from_records(value)
    if isinstance(value, Mapping):
        return decoder.from_column_lists(value)
    if isinstance(value, list) and value and isinstance(value[0], Mapping):
        return decoder.from_records(value)
    return decoder.from_rows(value)


def decode_csv(decoder: RequestDecoder, body: bytes) -> Matrix:
    """A CSV table with a header row, as ``DataFrame.to_csv(index=False)`` writes it."""
    try:
        table = [row for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) if row]
    except UnicodeDecodeError:
        raise PayloadError("a CSV body must be UTF-8 text") from None
    except csv.Error as exc:
        raise PayloadError(f"the body is not CSV: {exc}") from None
    if len(table) < 2:
        raise PayloadError(
            "a CSV body needs a header row naming the columns, then the rows, one a line"
            " (curl: --data-binary @FILE keeps the line breaks that -d strips)"
        )
    header = table[0]
    kinds = dict(zip(decoder.columns, decoder.rules.kinds, strict=True))
    parsers = [_cell_parser(kinds.get(name, Kind.STRING)) for name in header]
    rows = []
    for number, row in enumerate(table[1:], start=1):
        if len(row) != len(header):
            raise PayloadError(
                f"CSV row {number} has {len(row)} cells; the header has {len(header)}"
            )
        rows.append([parse(cell) for parse, cell in zip(parsers, row, strict=True)])
    return decoder.from_split(header, rows)


def _cell_parser(kind: Kind) -> Callable[[str], Any]:
    """Read a CSV cell as its column's type; a cell that is not one is left as text, which the
    column's rule then refuses by name."""

    def parse(cell: str) -> Any:
        if cell in _CSV_NULLS:
            return None
        if kind is Kind.STRING:
            return cell
        if kind is Kind.BOOLEAN:
            return _CSV_BOOLEANS.get(cell.lower(), cell)
        try:
            value = orjson.loads(cell)  # JSON's number syntax: no "1_000", "inf" or "0x10"
        except orjson.JSONDecodeError:
            return cell
        return value if type(value) in (int, float) else cell

    return parse


def _content_type(request: Request) -> str:
    """The media type, lower-cased; refuses a charset other than UTF-8 as MLflow does (415)."""
    media, *parameters = (
        part.strip() for part in request.headers.get("content-type", "").split(";")
    )
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            raise Refused("the scoring server only takes UTF-8", 415)
    return media.lower()


def routes(state: ServingState, core: PredictionCore) -> list[Route]:
    decoder, readiness = state.decoder, state.readiness

    def reply(predictions: Matrix) -> Response:
        return json_response({"predictions": jsonable(predictions)})

    def decode(request: Request, body: bytes) -> Decoded:
        # Any media type but CSV is read as JSON: curl's default form type included.
        if _content_type(request) == "text/csv":
            return Decoded(decode_csv(decoder, body), reply)
        return Decoded(decode_mlflow_payload(decoder, orjson.loads(body)), reply)

    async def ping(_request: Request) -> Response:
        if not readiness.ready:
            return mlflow_error("model is not ready: " + "; ".join(readiness.reasons), 503)
        return Response("\n", media_type="application/json")  # MLflow's body, byte for byte

    async def version(_request: Request) -> Response:
        return Response(parity_version(), media_type="text/plain")

    return [
        Route(
            "/invocations",
            core.endpoint("invocations", decode, mlflow_error, payload_status=400),
            methods=["POST"],
        ),
        Route("/ping", ping, methods=["GET"]),
        Route("/version", version, methods=["GET"]),
    ]
