"""Microsoft Graph's errors: one exception, ``GraphError``, in Graph's error shape.

Body (graph/concepts/errors.md): ``{"error": {"code", "message", "innerError": {"date",
"request-id", "client-request-id"}}}``; the ids are the ones the response's ``request-id`` and
``client-request-id`` headers carry, so the API layer renders the body with them
(:meth:`GraphError.body`); :meth:`GraphError.response` is for answers outside it (faults).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from starlette.responses import Response

from ..http import ServiceError, json_response


class GraphError(ServiceError):
    headers: dict[str, str]

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self, rid: str | None = None, crid: str | None = None) -> Any:
        rid = rid or str(uuid.uuid4())
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": rid,
                    "client-request-id": crid or rid,
                },
            }
        }

    def response(self) -> Response:
        rid = str(uuid.uuid4())
        headers = {"request-id": rid, "client-request-id": rid, **self.headers}
        return json_response(self.body(rid, rid), self.status, headers)


def not_found(ref: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{ref}' does not exist or one of its queried reference-property "
        f"objects are not present.",
    )


def bad_value(prop: str, resource: str) -> GraphError:
    return GraphError(
        400,
        "Request_BadRequest",
        f"Invalid value specified for property '{prop}' of resource '{resource}'.",
    )


def read_only(prop: str) -> GraphError:
    return GraphError(
        400, "Request_BadRequest", f"Property '{prop}' is read-only and cannot be set."
    )


def duplicate(prop: str) -> GraphError:
    return GraphError(
        409,
        "Request_MultipleObjectsWithSameKeyValue",
        f"Another object with the same value for property {prop} already exists.",
    )


def denied() -> GraphError:
    return GraphError(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def bad_segment(seg: str) -> GraphError:
    return GraphError(400, "BadRequest", f"Resource not found for the segment '{seg}'.")


def method_not_allowed() -> GraphError:
    return GraphError(
        405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
    )


def not_counted() -> GraphError:
    """``$count`` without ``ConsistencyLevel: eventual`` (advanced queries)."""
    return GraphError(400, "Request_BadRequest", "$count is not currently supported.")


def bad_json() -> GraphError:
    return GraphError(
        400,
        "BadRequest",
        "Unable to read JSON request payload. Please ensure Content-Type "
        "header is set and payload is of valid JSON format.",
    )
