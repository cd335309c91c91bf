"""ARM's errors: one exception, ``ArmError``, rendered as ARM renders every refusal.

Body: ``{"error": {"code", "message"}}`` (common-types v5 ``ErrorResponse``), with
``x-ms-failure-cause`` saying whether the gateway or the resource provider refused. The Logs
Ingestion API answers in the same shape.
"""

from __future__ import annotations

from typing import Any

from ..http import ServiceError


class ArmError(ServiceError):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = {"x-ms-failure-cause": "gateway" if status >= 500 else "service"}
        self.headers.update(headers or {})

    def body(self) -> Any:
        return {"error": {"code": self.code, "message": self.message}}


def method_not_allowed(method: str) -> ArmError:
    return ArmError(
        405,
        "MethodNotAllowed",
        f"The requested resource does not support http method '{method}'.",
    )


def invalid_content(detail: str = "") -> ArmError:
    """``InvalidRequestContent``; ``detail`` is the deserializer's reason, when ARM gives one."""
    return ArmError(
        400,
        "InvalidRequestContent",
        "The request content was invalid and could not be deserialized"
        + (f": '{detail}'." if detail else "."),
    )
