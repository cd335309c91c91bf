"""Microsoft.Resources below a subscription: the subscription itself, resource groups (their
DELETE is long-running: 202 + ``Location``), the resources of a group or subscription, and
resources of any type (GET / PUT / PATCH / DELETE; a long-running PUT answers with
``Azure-AsyncOperation``; attaching a user-assigned identity also needs
``userAssignedIdentities/assign/action`` on it: 403 ``LinkedAuthorizationFailed``)."""

from __future__ import annotations

from starlette.responses import Response

from ...http import Req, empty, json_response
from ..exceptions import ArmError, invalid_content
from ..ids import (
    ACCEPTED_PATCH_TYPES,
    ASYNC_TYPES,
    FIC,
    IDENTITY_TYPES,
    UAMI,
    VM,
    Doc,
    Rid,
    canonical_type,
    parse_rid,
    strip,
)
from ..models.compute import VM_ETAG_SINCE, vm_etag
from .base import ArmResponses, Ctx

ASSIGN_IDENTITY = "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"
RG_ACTION = "Microsoft.Resources/subscriptions/resourceGroups"
# the properties ``/resources`` lists of each resource
LISTED = ("id", "name", "type", "location", "tags", "kind", "sku", "identity", "managedBy")


class ResourceResponses(ArmResponses):
    # ---- the subscription ------------------------------------------------------------------------
    def get_subscription(self, req: Req, ctx: Ctx) -> Response:
        sub = ctx.sub or {}
        if not self.arm.has_any_assignment(ctx.tid, ctx.oid, sub["id"]):
            self._authorize(ctx, sub["id"], "Microsoft.Resources/subscriptions/read")
        return json_response(strip(sub))

    def list_resources(self, req: Req, ctx: Ctx) -> Response:
        """``/resources`` of the subscription or of one group (child resources are not listed)."""
        rid = Rid(req.params["sub"], req.params.get("rg"))
        if rid.rg is not None:
            self._authorize(ctx, rid.rg_id, f"{RG_ACTION}/resources/read")
            self.arm.require_resource_group(rid.sub, rid.rg)
        value = []
        for doc in self.arm.resources(rid.sub, rid.rg):
            if doc["_type"].count("/") > 1:
                continue
            if not self.arm.has_permission(ctx.tid, ctx.oid, doc["id"], f"{doc['type']}/read"):
                continue
            value.append({k: v for k, v in self.arm.render(doc).items() if k in LISTED})
        return self._list(req, value)

    # ---- resource groups -------------------------------------------------------------------------
    def list_resource_groups(self, req: Req, ctx: Ctx) -> Response:
        action = f"{RG_ACTION}/read"
        value = [
            strip(rg)
            for rg in self.arm.resource_groups(req.params["sub"])
            if self.arm.has_permission(ctx.tid, ctx.oid, rg["id"], action)
        ]
        return self._list(req, value)

    def _group(self, req: Req, ctx: Ctx, verb: str) -> tuple[str, str]:
        sub, rg = req.params["sub"], req.params["rg"]
        self._authorize(ctx, Rid(sub, rg).rg_id, f"{RG_ACTION}/{verb}")
        return sub, rg

    def get_resource_group(self, req: Req, ctx: Ctx) -> Response:
        sub, rg = self._group(req, ctx, "read")
        doc = self.arm.resource_group(sub, rg)
        if doc is None:
            if req.method == "HEAD":
                return empty(404)
            raise ArmError(
                404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found."
            )
        return empty(204) if req.method == "HEAD" else json_response(strip(doc))

    def put_resource_group(self, req: Req, ctx: Ctx) -> Response:
        sub, rg = self._group(req, ctx, "write")
        body = self._body(req)
        if not isinstance(body, dict):
            raise invalid_content()
        doc = self.arm.put_resource_group(
            sub,
            rg,
            body.get("location") or "",
            tags=body.get("tags"),
            managed_by=body.get("managedBy"),
        )
        created = doc.pop("_created_now")
        return json_response(strip(doc), 201 if created else 200)

    def patch_resource_group(self, req: Req, ctx: Ctx) -> Response:
        sub, rg = self._group(req, ctx, "write")
        body = self._body(req)
        doc = self.arm.require_resource_group(sub, rg)
        tags = body.get("tags", doc.get("tags")) if isinstance(body, dict) else doc.get("tags")
        doc = self.arm.put_resource_group(sub, rg, doc["location"], tags=tags)
        doc.pop("_created_now")
        return json_response(strip(doc))

    def delete_resource_group(self, req: Req, ctx: Ctx) -> Response:
        """Asynchronous (202 + ``Location``), as ResourceGroups_Delete is."""
        sub, rg = self._group(req, ctx, "delete")
        if self.arm.resource_group(sub, rg) is None:
            raise ArmError(
                404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found."
            )
        self.arm.delete_resource_group(sub, rg)
        op = self.arm.start_operation(Rid(sub, rg), "delete", "")
        headers = {
            "Location": f"{req.base_url()}/subscriptions/{sub}/operationresults/{op['name']}"
            f"?api-version={req.q('api-version')}"
        }
        headers.update(self._retry_after())
        return empty(202, headers)

    # ---- resources of a type -----------------------------------------------------------------
    def list_typed(self, req: Req, ctx: Ctx) -> Response:
        """A collection: ``.../{type}`` in a group or subscription, or a child collection."""
        path = self._path(req)
        rid = parse_rid(path)
        assert rid is not None
        type_ = canonical_type(rid.type)
        action = f"{type_}/read"
        # ARM filters a collection to what the caller may read when it has no access to the whole
        # collection, and refuses only a caller with no role anywhere in the subscription
        whole = self.arm.has_permission(ctx.tid, ctx.oid, path, action)
        if not whole and not self.arm.has_any_assignment(ctx.tid, ctx.oid, rid.sub_id):
            self._authorize(ctx, path, action)
        if rid.rg is not None:
            self.arm.require_resource_group(rid.sub, rid.rg)
        parent = None
        if (
            rid.names
        ):  # a child collection, e.g. .../userAssignedIdentities/x/federatedIdentityCredentials
            parent = Rid(rid.sub, rid.rg, rid.ns, rid.types[:-1], rid.names)
            self.arm.require_resource(parent)
        docs = self.arm.resources(rid.sub, rid.rg, type_)
        if parent is not None:
            prefix = parent.key() + "/"
            docs = [d for d in docs if d["id"].lower().startswith(prefix)]
        if not whole:
            docs = [d for d in docs if self.arm.has_permission(ctx.tid, ctx.oid, d["id"], action)]
        return self._list(req, [self.arm.render(d, ctx.api_version) for d in docs])

    def _target(self, req: Req, ctx: Ctx, verb: str) -> tuple[Rid, str, str]:
        """(id, path, lower-case type) of the resource, once the caller may ``verb`` it."""
        path = self._path(req)
        rid = parse_rid(path)
        assert rid is not None
        type_ = canonical_type(rid.type)
        self._authorize(ctx, path, f"{type_}/{verb}")
        if rid.rg is not None:
            self.arm.require_resource_group(rid.sub, rid.rg)
        return rid, path, type_.lower()

    def get_resource(self, req: Req, ctx: Ctx) -> Response:
        rid, _path, tlow = self._target(req, ctx, "read")
        doc = self.arm.resource(rid)
        if doc is None:
            raise self.arm.not_found(rid)
        if tlow in ASYNC_TYPES:
            self.arm.complete_operations(rid, older_than=60)  # a client that never polls
            doc = self.arm.resource(rid) or doc
        out = self.arm.render(doc, ctx.api_version)
        return json_response(out, headers=_etag_header(out))

    def put_resource(self, req: Req, ctx: Ctx) -> Response:
        return self._write(req, ctx, patch=False)

    def patch_resource(self, req: Req, ctx: Ctx) -> Response:
        return self._write(req, ctx, patch=True)

    def _write(self, req: Req, ctx: Ctx, *, patch: bool) -> Response:
        rid, path, tlow = self._target(req, ctx, "write")
        body = self._body(req)
        if not isinstance(body, dict):
            raise invalid_content()
        if tlow == VM.lower() and ctx.api_version >= VM_ETAG_SINCE:
            self._preconditions(req, self.arm.resource(rid))
        if "identity" in body and tlow in IDENTITY_TYPES | {UAMI.lower()}:
            added = self.arm.identities_added(rid, body.get("identity"), patch=patch)
            denied = [
                i
                for i in added
                if not self.arm.has_permission(ctx.tid, ctx.oid, i, ASSIGN_IDENTITY)
            ]
            if denied:
                raise ArmError(
                    403,
                    "LinkedAuthorizationFailed",
                    f"The client '{ctx.client}' with object id '{ctx.oid}' has permission to perform "
                    f"action '{canonical_type(rid.type)}/write' on scope '{path}'; however, it does "
                    f"not have permission to perform action '{ASSIGN_IDENTITY}' on the linked "
                    f"scope(s) '{','.join(denied)}' or the linked scope(s) are invalid.",
                )
        doc, created = self.arm.put_resource(
            rid, body, caller=ctx.oid, api_version=ctx.api_version, patch=patch
        )
        out = self.arm.render(doc, ctx.api_version)
        status = 201 if created else 200
        if patch and tlow in ACCEPTED_PATCH_TYPES:  # 202, then the Location says when it is done
            op = self.arm.start_operation(rid, "patch", doc.get("location", "westus2"))
            headers = self._lro_headers(req, rid, op)
            return empty(202, {"Location": headers["Location"], **self._retry_after()})
        if tlow in ASYNC_TYPES:
            op = self.arm.start_operation(
                rid, "patch" if patch else "put", doc.get("location", "westus2")
            )
            headers = {**self._lro_headers(req, rid, op), **_etag_header(out)}
            return json_response(out, status, headers)
        if created and tlow in (UAMI.lower(), FIC.lower()):
            # the MSI provider's 201 names the new resource (az CLI recordings
            # test_identity_management, test_federated_identity_credential: "location: /subscri
            # ptions/.../userAssignedIdentities/ide[/federatedIdentityCredentials/fic1]")
            return json_response(out, status, {"Location": out["id"]})
        return json_response(out, status)

    @staticmethod
    def _preconditions(req: Req, existing: Doc | None) -> None:
        """``If-Match`` / ``If-None-Match`` on a virtual machine (api-version 2023-09-01 on):
        "Specify the last-seen ETag value to prevent accidentally overwriting concurrent
        changes"; "Set to '*' to allow a new record set to be created, but to prevent updating an
        existing record set" (virtualMachine.json). A mismatch is ARM's 412 PreconditionFailed;
        the message is Compute's ("Etag provided in if-match header \"2\" does not match etag
        \"3\" of resource.", kubernetes-sigs/cloud-provider-azure#9728)."""
        current = vm_etag(existing) if existing is not None else None
        if_match = req.header("if-match")
        if if_match is not None and if_match.strip() != "*" and if_match.strip() != current:
            raise ArmError(
                412,
                "PreconditionFailed",
                f"Etag provided in if-match header {if_match.strip()} does not match etag "
                f"{current} of resource.",
            )
        if if_match is not None and if_match.strip() == "*" and existing is None:
            raise ArmError(412, "PreconditionFailed", "The resource does not exist (If-Match: *).")
        if (req.header("if-none-match") or "").strip() == "*" and existing is not None:
            raise ArmError(
                412,
                "PreconditionFailed",
                f"Etag provided in if-none-match header * matches etag {current} of resource.",
            )

    def delete_resource(self, req: Req, ctx: Ctx) -> Response:
        rid, _path, tlow = self._target(req, ctx, "delete")
        existed = self.arm.resource(rid)
        if existed is None:
            return empty(204)
        if tlow in ASYNC_TYPES:
            location = existed.get("location", "westus2")
            self.arm.delete_resource(rid)
            op = self.arm.start_operation(rid, "delete", location)
            return empty(202, self._lro_headers(req, rid, op))
        self.arm.delete_resource(rid)
        return empty(200)

    def list_associated_resources(self, req: Req, ctx: Ctx) -> Response:
        """``POST .../userAssignedIdentities/{name}/listAssociatedResources``
        (2022-01-31-preview): ``{"totalCount": n, "value": [...]}`` (az CLI recording
        test_identity_management), each resource with id, name, lower-case type, resourceGroup,
        subscriptionId and subscriptionDisplayName (learn.microsoft.com/entra/identity/
        managed-identities-azure-resources/how-to-view-associated-resources-for-an-identity).
        Its OData ``$filter`` / ``$orderby`` are not modelled: refused rather than ignored."""
        path = self._path(req).rsplit("/", 1)[0]
        rid = parse_rid(path)
        assert rid is not None
        self._authorize(ctx, path, f"{UAMI}/listAssociatedResources/action")
        self.arm.require_resource_group(rid.sub, rid.rg or "")
        uami = self.arm.require_resource(rid)
        for option in ("$filter", "$orderby"):
            if req.q(option):
                raise ArmError(
                    400, "BadRequest", f"{option} is not supported by this sandbox's provider."
                )
        value = []
        for doc in self.arm.associated_resources(uami["id"]):
            if not self.arm.has_permission(ctx.tid, ctx.oid, doc["id"], f"{doc['type']}/read"):
                continue
            sub = self.arm.subscription(doc["_sub"]) or {}
            value.append(
                {
                    "id": doc["id"],
                    "name": doc["name"],
                    "type": doc["type"].lower(),
                    "resourceGroup": doc["id"].split("/")[4],
                    "subscriptionId": doc["_sub"],
                    "subscriptionDisplayName": sub.get("displayName"),
                }
            )
        return self._list(req, value, totalCount=len(value))

    def unsupported_action(self, req: Req, ctx: Ctx) -> Response:
        """POST on a resource: no resource actions are implemented."""
        rid = parse_rid(self._path(req))
        assert rid is not None
        raise ArmError(
            404,
            "InvalidResourceType" if req.method == "POST" else "MethodNotAllowed",
            f"The resource type '{canonical_type(rid.type)}' does not support the requested "
            "operation in this sandbox.",
        )

    def any_resource(self, req: Req, ctx: Ctx) -> Response:
        """A path below a subscription that no other route names: parsed as ARM parses ids, so
        any provider's resource can be stored (with no rules of its own)."""
        path = self._path(req)
        rid = parse_rid(path)
        if rid is None or rid.ns is None:
            raise ArmError(
                404,
                "InvalidResourceType" if "/providers/" in path.lower() else "NotFound",
                f"The resource path '{path}' is not supported.",
            )
        if rid.is_collection:
            self._only(req, "GET")
            return self.list_typed(req, ctx)
        handler = {
            "GET": self.get_resource,
            "HEAD": self.get_resource,
            "PUT": self.put_resource,
            "PATCH": self.patch_resource,
            "DELETE": self.delete_resource,
        }.get(req.method, self.unsupported_action)
        return handler(req, ctx)


def _etag_header(out: Doc) -> dict[str, str]:
    """ARM's RPC: an ``etag`` in the body "must also be provided as a header"
    (resource-api-reference.md)."""
    return {"ETag": out["etag"]} if "etag" in out else {}
