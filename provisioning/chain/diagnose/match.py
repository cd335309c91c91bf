"""``diagnose()``: read the error, pick the first rule of the table that applies, run its
analyzer, fill its templates."""

from __future__ import annotations

from typing import Any

from .analyze import ANALYZERS
from .model import Context, Diagnosis
from .parse import AADSTS_RX, ErrorInfo, parse_error
from .table import ENTRA_ERROR_URL, WHEN, rules_for
from .words import fill, values_of


def _normalise(info: ErrorInfo, ctx: Context) -> ErrorInfo:
    service = info.service or ctx.service
    if info.status == 403 and service == "monitor" and not (info.code or "").startswith("AADSTS"):
        return ErrorInfo("LOGS_INGESTION_FORBIDDEN", 403, info.message, service)
    return info


def diagnose(error: Any, context: Context | None = None) -> Diagnosis:
    """The cause and fix of ``error``: an exception (azure-identity, azure-core, kiota), an
    HTTP response, an error body (Entra/MSAL, ARM, Graph, IMDS) or text; or an ``ErrorInfo``
    for the failures verify finds itself (``FIC_MISMATCH``, ``GRAPH_ROLES_MISSING``, ...)."""
    ctx = context or Context()
    info = _normalise(parse_error(error, ctx.service), ctx)
    code = info.code or "UNKNOWN"
    rule = next(
        (r for r in rules_for(code) if r.when is None or WHEN[r.when](ctx)),
        None,
    )
    if rule is None:
        return _unknown(code, info)
    values = values_of(ctx)
    details: list[str] = []
    if rule.analyze:
        extra = ANALYZERS[rule.analyze](info, ctx)
        details = list(extra.pop("details", []))
        values.update({k: v for k, v in extra.items() if v is not None})
    return Diagnosis(
        code=code,
        cause=fill(rule.cause, values),
        fix=fill(rule.fix, values),
        details=tuple(details),
        message=info.message or None,
        severity=rule.severity,
    )


def _unknown(code: str, info: ErrorInfo) -> Diagnosis:
    m = AADSTS_RX.fullmatch(code)
    if m:
        url = info.error_uri or ENTRA_ERROR_URL.format(n=m.group(1))
        fix = f"no specific advice for {code}: see {url} and Entra's error code reference"
    else:
        fix = "no specific advice for this error: the service's message above is all there is"
    return Diagnosis(
        code=code,
        cause=info.message or code,
        fix=fix,
        message=info.message or None,
    )
