"""Long-running operations, as the ``Azure-AsyncOperation`` (a status body) and ``Location``
(202 while running, then the operation's result) headers point at them."""

from __future__ import annotations

from starlette.responses import Response

from ...http import Req, empty, json_response
from ..exceptions import ArmError
from ..models import RES
from .base import ArmResponses, Ctx


class OperationResponses(ArmResponses):
    def operation_status(self, req: Req, ctx: Ctx) -> Response:
        sub_id, op_id = req.params["sub"], req.params["op"]
        op = self.arm.operation(op_id)
        if op is None or op["_sub"].lower() != sub_id.lower():
            raise ArmError(404, "NotFound", f"The operation '{op_id}' could not be found.")
        op = self.arm.poll_operation(op_id) or op
        monitor = (
            req.q("monitor") or ""
        ).lower() == "true" or "/operationresults/" in req.path.lower()
        if monitor:
            # the Location protocol: 202 while running, then what the operation would have returned
            if op["status"] == "InProgress":
                headers = {"Location": str(req.request.url)}
                headers.update(self._retry_after())
                return empty(202, headers)
            if op["_kind"] == "delete":
                return empty(200)
            doc = self.arm.store.get(RES, op["_resource"])
            return json_response(self.arm.render(doc)) if doc else empty(204)
        body = {"startTime": op["startTime"], "status": op["status"], "name": op["name"]}
        if op["status"] != "InProgress":
            body["endTime"] = op.get("endTime")
        headers = self._retry_after() if op["status"] == "InProgress" else {}
        return json_response(body, 200, headers)
