"""Microsoft.ManagedIdentity's extension resource: the system-assigned identity of any resource
(``{scope}/providers/Microsoft.ManagedIdentity/identities/default``, GetByScope). User-assigned
identities and their federated credentials are plain resources (``resources.py``) with the
provider's rules in ``models/msi.py``."""

from __future__ import annotations

from starlette.responses import Response

from ...http import Req, json_response
from ..exceptions import ArmError
from ..ids import parse_rid
from .base import ArmResponses, Ctx


class MsiResponses(ArmResponses):
    def system_identity(self, req: Req, ctx: Ctx) -> Response:
        scope = "/subscriptions/" + req.params["scope"]
        rid = parse_rid(scope)
        if rid is None or not rid.names:
            raise ArmError(400, "InvalidScope", f"The scope '{scope}' is not valid.")
        self._subscription(req, ctx, rid.sub)
        self._authorize(ctx, self._path(req), "Microsoft.ManagedIdentity/identities/read")
        if rid.rg is not None:
            self.arm.require_resource_group(rid.sub, rid.rg)
        self.arm.require_resource(rid)
        doc = self.arm.system_identity_resource(scope)
        if doc is None:
            raise ArmError(
                404, "ResourceNotFound", f"The system assigned identity of '{scope}' was not found."
            )
        return json_response(doc)
