"""Turning SDK exceptions into sentences an admin can act on.

Tasks raise ``TaskError`` with the *fix* in it (which role, on which scope); the engine
collects them per task so nothing half-done goes unreported.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any


class XtenantError(Exception):
    """Every error xtenant reports itself: ``address`` says where (an object, a field, a
    step), ``message`` what happened and what to do about it. The CLI prints one line."""

    def __init__(self, message: str, *, address: str = "", code: str | None = None) -> None:
        super().__init__(f"{address}: {message}" if address else message)
        self.address = address
        self.message = message
        self.code = code


class TaskError(XtenantError):
    """A task cannot proceed; ``str()`` says why and what to do."""

    def __init__(self, address: str, message: str, *, code: str | None = None) -> None:
        super().__init__(message, address=address, code=code)


@contextmanager
def denied(address: str, fix: str, *, ok: Collection[int] = ()) -> Iterator[None]:
    """Around a request: "denied" (HTTP 403, from any SDK) becomes ``TaskError(address, fix)``,
    where ``fix`` names the role (or permission) to grant and the scope to grant it on. An
    answer whose status is in ``ok`` ends the block quietly (a 404 to a delete: gone)."""
    try:
        yield
    except XtenantError:
        raise
    except Exception as e:
        status = status_of(e)
        if status == 403:
            raise TaskError(address, fix) from None
        if status not in ok:
            raise


def describe(e: BaseException) -> str:
    """An unanticipated SDK error in one line: status and service code, then the message."""
    status, code = status_of(e), code_of(e)
    head = " ".join(str(x) for x in (status, code) if x)
    return f"{head}: {message_of(e)}" if head else f"{type(e).__name__}: {e}"


def status_of(exc: BaseException) -> int | None:
    """HTTP status of an azure-core or kiota (msgraph) error, if it carries one."""
    for attr in ("status_code", "response_status_code"):
        v = getattr(exc, attr, None)
        if isinstance(v, int):
            return v
    resp = getattr(exc, "response", None)
    v = getattr(resp, "status_code", None)
    return v if isinstance(v, int) else None


def code_of(exc: BaseException) -> str | None:
    """Service error code: ARM's ``error.code`` or Graph's ``error.code``."""
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None)
    if isinstance(code, str):
        return code
    main = getattr(exc, "error", None) or getattr(exc, "main_error", None)
    if main is not None and isinstance(getattr(main, "code", None), str):
        return main.code
    body = _body(exc)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code")
    return None


def message_of(exc: BaseException) -> str:
    err = getattr(exc, "error", None)
    msg = getattr(err, "message", None)
    if isinstance(msg, str) and msg:
        return msg
    body = _body(exc)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message", ""))
    return str(getattr(exc, "message", None) or exc).splitlines()[0]


def _body(exc: BaseException) -> Any:
    resp = getattr(exc, "response", None)
    if resp is None:
        return None
    try:
        text = resp.text() if callable(getattr(resp, "text", None)) else resp.text
        return json.loads(text)
    except Exception:
        return None


def is_transport_error(exc: BaseException) -> bool:
    """The request may or may not have reached the service (a lost response)."""
    from azure.core.exceptions import IncompleteReadError, ServiceRequestError, ServiceResponseError

    lost = (
        IncompleteReadError,
        ServiceRequestError,
        ServiceResponseError,
        ConnectionError,
        TimeoutError,
    )
    if isinstance(exc, lost):
        return True
    try:
        import httpx

        if isinstance(exc, httpx.TransportError):
            return True
    except ImportError:  # pragma: no cover
        pass
    cause = exc.__cause__ or exc.__context__
    return cause is not None and cause is not exc and is_transport_error(cause)


def is_not_found(exc: BaseException) -> bool:
    return status_of(exc) == 404
