"""The Logs Ingestion API (``POST {endpoint}/dataCollectionRules/{immutableId}/streams/{stream}``).

The endpoint is a data collection endpoint (``{monitor}/{dce key}``, as its ARM
``logsIngestion.endpoint`` says) or the monitor root. A caller needs the data action
``Microsoft.Insights/Telemetry/Write`` on the DCR (Monitoring Metrics Publisher); the body is a
JSON array of records, gzip-compressed as the SDK sends it. Errors are ARM's (``ArmError``).
"""

from __future__ import annotations

import gzip
import json
import zlib
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from ..arm.exceptions import ArmError
from ..auth import MONITOR_AUDIENCES, AuthError, bearer_claims
from ..http import Req, empty

if TYPE_CHECKING:
    from ..world import World

TELEMETRY_WRITE = "Microsoft.Insights/Telemetry/Write"
MAX_BODY = 1024 * 1024  # "Maximum size of API call: 1 MB", checked on the body as sent
# The SDK's own 1 MiB chunks serialize to slightly more than 1 MiB uncompressed (it does not count
# the array's separators), so the service cannot be strict there; this only guards gzip bombs.
MAX_UNCOMPRESSED = 16 * MAX_BODY


def _challenge(world: World, description: str) -> dict[str, str]:
    return {
        "WWW-Authenticate": f'Bearer authorization_uri="{world.urls.authority}/", error="invalid_token", '
        f'error_description="{description}"'
    }


def upload(world: World, req: Req) -> Response:
    req.kind = "write"
    if not req.q("api-version"):
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    try:
        claims = bearer_claims(req, MONITOR_AUDIENCES)
    except AuthError as e:
        raise ArmError(401, e.code, e.message, _challenge(world, e.message)) from None
    dce_key = req.params.get("dce")
    if dce_key is not None and world.arm.dce_by_endpoint_key(dce_key) is None:
        raise ArmError(404, "NotFound", f"Data collection endpoint '{dce_key}' not found.")
    immutable_id = req.params["dcr"]
    dcr = world.arm.dcr_by_immutable_id(immutable_id)
    if dcr is None:
        raise ArmError(
            404, "NotFound", f"Data collection rule with immutable Id '{immutable_id}' not found."
        )
    tid, oid = claims.get("tid", ""), claims.get("oid", "")
    granted = tid == dcr["_tenant"] and world.arm.has_permission(
        tid, oid, dcr["id"], TELEMETRY_WRITE, data=True
    )
    if not granted:
        raise ArmError(
            403,
            "OperationFailed",
            "The authentication token provided does not have access to ingest data for the data "
            f"collection rule with immutable Id '{immutable_id}' PipelineAccessResult: AccessGranted: "
            f"False, IsRbacPresent: False, IsDcrDceBindingValid: , DcrArmId: {dcr['id']}, Message: "
            f"Required authorization action was not found for tenantId {tid} objectId {oid} on "
            f"resourceId {dcr['id']} ConfigurationId: {immutable_id}..",
        )
    stream = req.params["stream"]
    declared = _streams(dcr)
    match = next((s for s in declared if s.lower() == stream.lower()), None)
    if match is None:
        raise ArmError(
            400,
            "InvalidStream",
            f"Stream '{stream}' is not declared in the data collection rule with immutable Id "
            f"'{immutable_id}'.",
        )
    if len(req.body) > MAX_BODY:
        raise ArmError(
            413,
            "ContentLengthLimitExceeded",
            f"Maximum allowed content length: {MAX_BODY} bytes ({MAX_BODY // 1024 // 1024} MB). "
            f"Provided content length: {len(req.body)} bytes.",
        )
    raw = req.body
    encoding = (req.header("content-encoding") or "").lower()
    if encoding == "gzip" or raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error):
            raise ArmError(
                400, "InvalidContentEncoding", "The request body could not be decompressed as gzip."
            ) from None
    if len(raw) > MAX_UNCOMPRESSED:
        raise ArmError(
            413,
            "ContentLengthLimitExceeded",
            f"Maximum allowed content length: {MAX_UNCOMPRESSED} bytes. Provided content length: "
            f"{len(raw)} bytes.",
        )
    try:
        body: Any = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ArmError(400, "InvalidPayload", "The request body is not valid JSON.") from None
    if isinstance(body, dict):
        body = [body]
    if not isinstance(body, list) or not all(isinstance(x, dict) for x in body):
        raise ArmError(400, "InvalidPayload", "The request body must be a JSON array of objects.")
    world.monitor.ingest(
        tenant=tid,
        dcr_id=dcr["id"],
        dcr_immutable_id=dcr["properties"]["immutableId"],
        stream=match,
        caller=oid,
        records=body,
        client_request_id=req.header("x-ms-client-request-id"),
    )
    req.extra["records"] = len(body)
    return empty(204)


def _streams(dcr: dict[str, Any]) -> list[str]:
    props = dcr.get("properties") or {}
    out = list((props.get("streamDeclarations") or {}).keys())
    for flow in props.get("dataFlows") or []:
        for s in flow.get("streams") or []:
            if s not in out:
                out.append(s)
    return out
