"""Reading an error: its code (the key into the table), HTTP status and message, from
whatever form it arrives in: an SDK exception, an HTTP response, a JSON body or text."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorInfo:
    code: str | None  # the key into RULES (AADSTS700016, MI_IDENTITY_NOT_FOUND, ...)
    status: int | None
    message: str  # first line, trace ids removed
    service: str | None
    error_uri: str | None = None


AADSTS_RX = re.compile(r"AADSTS(\d+)")
_TRACE_RX = re.compile(r"\s*(Trace ID|Correlation ID|Timestamp):.*$", re.S)

# managed-identity endpoint messages (IMDS, App Service / Automation, Arc) -> codes
MI_MESSAGES: tuple[tuple[str, str], ...] = (
    ("multiple user assigned identities exist", "MI_MULTIPLE_IDENTITIES"),
    ("identity not found", "MI_IDENTITY_NOT_FOUND"),
    ("no user assigned or delegated managed identity found", "MI_IDENTITY_NOT_FOUND"),
    ("no managed identity endpoint found", "MI_UNAVAILABLE"),
    ("managedidentitycredential authentication unavailable", "MI_UNAVAILABLE"),
    ("managed identity configuration not found", "MI_UNAVAILABLE"),
    ("target azure platform could not be determined", "MI_UNAVAILABLE"),
    ("no response from the imds endpoint", "MI_UNAVAILABLE"),
)


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0].strip() if text else ""


def _clean(text: str) -> str:
    return _TRACE_RX.sub("", _first_line(text)).strip().rstrip("'").strip()


def _json(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


def _from_text(text: str, status: int | None = None, service: str | None = None) -> ErrorInfo:
    m = AADSTS_RX.search(text)
    if m:
        rest = re.split(r"\s+Trace ID:|\n|\\n", text[m.start() :], maxsplit=1)[0]
        return ErrorInfo(f"AADSTS{m.group(1)}", status, _clean(rest), "entra")
    low = text.lower()
    for needle, code in MI_MESSAGES:
        if needle in low:
            # the endpoint's own words, after azure-identity's preamble when there is one
            tail = text.split("Token request error:", 1)[-1]
            return ErrorInfo(code, status, _clean(tail), "imds")
    return ErrorInfo(None, status, _clean(text), service)


def _from_body(body: Mapping[str, Any], status: int | None, service: str | None) -> ErrorInfo:
    status = body.get("status", status) if isinstance(body.get("status"), int) else status
    service = body.get("service", service) if isinstance(body.get("service"), str) else service
    err = body.get("error")
    if isinstance(err, Mapping):  # ARM / Graph / Logs Ingestion
        code = err.get("code")
        msg = str(err.get("message") or "")
        if isinstance(code, str):
            return ErrorInfo(code, status, _clean(msg) or code, service)
        return _from_text(msg, status, service)
    codes = body.get("error_codes")
    desc = str(body.get("error_description") or body.get("message") or "")
    if isinstance(codes, list) and codes:  # Entra / MSAL
        text = desc if "AADSTS" in desc else f"AADSTS{codes[0]}: {desc}"
        info = _from_text(text, status, "entra")
        return ErrorInfo(info.code, status, info.message, "entra", body.get("error_uri"))
    if desc or isinstance(err, str):
        info = _from_text(desc or str(err), status, service)
        if info.code is None and isinstance(err, str):
            return ErrorInfo(err, status, info.message or err, service)
        return info
    return ErrorInfo(None, status, _clean(json.dumps(dict(body), default=str)), service)


def parse_error(err: Any, service: str | None = None) -> ErrorInfo:
    """Code, HTTP status and message of an SDK exception, an HTTP response, a JSON body
    (Entra/MSAL, ARM, Graph, IMDS) or plain text."""
    if isinstance(err, ErrorInfo):
        return err
    if isinstance(err, Mapping):
        return _from_body(err, None, service)
    if isinstance(err, str):
        body = _json(err)
        return _from_body(body, None, service) if isinstance(body, dict) else _from_text(err)
    # an HTTP response (httpx, azure-core)
    status = _status(err)
    if not isinstance(err, BaseException) and status is not None:
        body = _json(_text_of(err))
        if isinstance(body, dict):
            return _from_body(body, status, service)
        return ErrorInfo(f"HTTP{status}", status, _clean(_text_of(err) or ""), service)
    # an exception: prefer the response body it carries, then its structured error
    resp = getattr(err, "response", None)
    body = _json(_text_of(resp)) if resp is not None else None
    if isinstance(body, dict):
        info = _from_body(body, status, service)
        if info.code:
            return info
    main = getattr(err, "error", None)
    code = getattr(main, "code", None)
    if isinstance(code, str) and code:
        msg = str(getattr(main, "message", "") or "")
        return ErrorInfo(code, status, _clean(msg) or code, service)
    text = str(getattr(err, "message", None) or err)
    info = _from_text(text, status, service)
    if info.code is None and status is not None:
        return ErrorInfo(f"HTTP{status}", status, info.message, service)
    return info


def _status(obj: Any) -> int | None:
    for attr in ("status_code", "response_status_code", "status"):
        v = getattr(obj, attr, None)
        if isinstance(v, int):
            return v
    resp = getattr(obj, "response", None)
    v = getattr(resp, "status_code", None)
    return v if isinstance(v, int) else None


def _text_of(resp: Any) -> str | None:
    if resp is None:
        return None
    try:
        text = resp.text() if callable(getattr(resp, "text", None)) else resp.text
        return text if isinstance(text, str) else None
    except Exception:
        return None
