"""Entra's errors: one exception, ``EntraError``, as the token endpoint renders it.

Body (reference-error-codes.md, v2-oauth2-client-creds-grant-flow.md "Error response"):
``error``, ``error_description`` starting ``AADSTSnnnn:`` and ending with the trace and
correlation ids and the timestamp, ``error_codes``, ``timestamp``, ``trace_id``,
``correlation_id``, ``error_uri``. Other endpoints show the same refusal their own way: the
sign-in error page (admin consent), ``oauth_body`` (IMDS relaying Entra), and an error without
an AADSTS code (``code=None``: faults and unknown paths on the Entra and identity ports).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from starlette.responses import Response

from ..http import ServiceError, json_response

_NO_STORE = "no-store, no-cache"


class EntraError(ServiceError):
    def __init__(
        self,
        status: int,
        error: str,
        code: int | None,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"AADSTS{code}: {message}" if code else message)
        self.status = status
        self.error = error
        self.code = code
        self.message = message
        self.headers = headers

    @classmethod
    def plain(
        cls, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> EntraError:
        """An answer with no AADSTS code: ``{"error", "error_description"}``."""
        return cls(status, code.lower(), None, message, headers)

    def body(self) -> Any:
        if self.code is None:
            return {"error": self.error, "error_description": self.message}
        return self._aadsts(str(uuid.uuid4()), str(uuid.uuid4()))

    def _aadsts(self, trace: str, corr: str) -> dict[str, Any]:
        ts = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.message} Trace ID: {trace} "
            f"Correlation ID: {corr} Timestamp: {ts}",
            "error_codes": [self.code],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }

    def response(self) -> Response:
        if self.code is None:
            return json_response(self.body(), self.status, self.headers)
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        headers = {"x-ms-request-id": trace, "Cache-Control": _NO_STORE, **(self.headers or {})}
        return json_response(self._aadsts(trace, corr), self.status, headers)

    def oauth_body(self) -> dict[str, Any]:
        """``error`` + ``error_description``, as IMDS relays an Entra refusal."""
        ts = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.message} Trace ID: {uuid.uuid4()} "
            f"Correlation ID: {uuid.uuid4()} Timestamp: {ts}",
        }


def missing(name: str, where: str = "request body") -> EntraError:
    return EntraError(
        400,
        "invalid_request",
        900144,
        f"The {where} must contain the following parameter: '{name}'.",
    )
