"""JSON batching (graph/concepts/json-batching.md): ``POST /$batch`` runs each item through
the same routing, authorization and rules as a request of its own."""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..exceptions import GraphError, bad_segment
from ..routing import parse_path
from .base import JSON_CT, Call, Out

if TYPE_CHECKING:
    from .api import GraphApi

MAX_BATCH = 20
FAILED_DEPENDENCY = GraphError(424, "FailedDependency", "Dependent request failed.")


class BatchResponses:
    def __init__(self, api: GraphApi) -> None:
        self.api = api

    def batch(self, call: Call) -> Out:
        """``POST /$batch``: at most 20 requests, ``dependsOn`` ordering (a failed dependency is a
        424), each item answered as its own request would be."""

        def bad(msg: str) -> GraphError:
            return GraphError(400, "BadRequest", msg)

        crid = call.crid
        body = call.json()
        reqs = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(reqs, list) or not reqs:
            raise bad("Invalid batch payload format.")
        if len(reqs) > MAX_BATCH:
            raise bad(f"Number of requests in the batch exceeds the limit of {MAX_BATCH}.")
        ids: dict[str, dict[str, Any]] = {}
        for item in reqs:
            if not isinstance(item, dict) or not all(
                isinstance(item.get(k), str) and item.get(k) for k in ("id", "method", "url")
            ):
                raise bad("Invalid batch payload format.")
            if item["id"].lower() in ids:
                raise bad("Batch request contains duplicate request ids.")
            ids[item["id"].lower()] = item
            if item.get("body") is not None and not any(
                k.lower() == "content-type" for k in (item.get("headers") or {})
            ):
                raise bad(
                    "Write request id : "
                    + item["id"]
                    + " does not contain Content-Type header or body."
                )
        deps: dict[str, list[str]] = {}
        for item in reqs:
            dep = item.get("dependsOn") or []
            if not isinstance(dep, list) or any(
                not isinstance(x, str) or x.lower() not in ids for x in dep
            ):
                raise bad("Depends on request id is not found in the batch.")
            deps[item["id"].lower()] = [x.lower() for x in dep]
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(k: str) -> bool:
            if state.get(k) == 2:
                return True
            if state.get(k) == 1:
                return False
            state[k] = 1
            if not all(visit(x) for x in deps[k]):
                return False
            state[k] = 2
            order.append(k)
            return True

        for item in reqs:
            if not visit(item["id"].lower()):
                raise bad("Circular dependency detected in the batch request.")
        results: dict[str, dict[str, Any]] = {}
        for k in order:
            item = ids[k]
            if any(results[d]["status"] >= 400 for d in deps[k]):
                irid = str(uuid.uuid4())
                results[k] = {
                    "id": item["id"],
                    "status": 424,
                    "headers": {"Content-Type": "application/json"},
                    "body": FAILED_DEPENDENCY.body(irid, crid),
                }
                continue
            results[k] = self._batch_item(call, item, crid)
        if call.req is not None:  # the request log counts the batch as a read or a write
            call.req.kind = (
                "read" if all(ids[k]["method"].upper() == "GET" for k in ids) else "write"
            )
            call.req.extra["batch"] = len(reqs)
        return Out(200, {"responses": [results[item["id"].lower()] for item in reqs]})

    def _batch_item(self, outer: Call, item: dict[str, Any], crid: str) -> dict[str, Any]:
        irid = str(uuid.uuid4())
        url = item["url"]
        parts = urlsplit(url)
        if parts.scheme:
            path, query = parts.path, parts.query
        else:
            path, _, query = url.partition("?")
        path = re.sub(r"^(?:v1\.0|beta)(?:/|$)", "", unquote(path).lstrip("/"), flags=re.I)
        headers = {k.lower(): str(v) for k, v in (item.get("headers") or {}).items()}
        body = item.get("body")
        raw = (
            json.dumps(body).encode()
            if isinstance(body, (dict, list))
            else (body.encode() if isinstance(body, str) else b"")
        )
        try:
            segs = parse_path(path.strip("/"))
            if segs and segs[0].name == "$batch":
                raise bad_segment("$batch")
            inner = Call(
                item["method"].upper(),
                segs,
                dict(parse_qsl(query, keep_blank_values=True)),
                headers,
                raw,
                outer.base,
                outer.ctx,
                path,
            )
            out = self.api.dispatch(inner, irid, crid)
        except GraphError as e:  # the item's path does not parse
            out = Out(e.status, e.body(irid, crid), dict(e.headers))
        h = {"Cache-Control": "no-cache", **out.headers}
        entry: dict[str, Any] = {"id": item["id"], "status": out.status, "headers": h}
        if out.text is not None:
            h["Content-Type"] = "text/plain"
            entry["body"] = out.text
        elif out.body is not None:
            h["OData-Version"] = "4.0"
            h["Content-Type"] = JSON_CT
            entry["body"] = out.body
        return entry
