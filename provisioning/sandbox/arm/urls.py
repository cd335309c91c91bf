"""ARM's routing table: which handler serves which method on which path.

Paths match case-insensitively (ARM's are), with or without a trailing slash; the first pattern
that matches a path decides (405 when it has no handler for the method). Every handler first
passes ARM's checks (``responses/base.py``: api-version, token, and the subscription of a
``{sub}`` route); the ``PUBLIC`` paths need no token. A path no route matches is a 404 after
the same checks.

The resource types with rules of their own (``models/<provider>.py``) are listed one by one; a
resource of any other type below a subscription is served by ``any_resource`` (last row).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..http import Router
from .ids import ARC, AUTOMATION, CONTAINER_APP, DCE, DCR, FIC, UAMI, VM, VMSS, WEB_SLOT, WEBSITE
from .responses.authorization import AuthorizationResponses
from .responses.base import ArmHandler, ArmResponses
from .responses.msi import MsiResponses
from .responses.operations import OperationResponses
from .responses.resources import ResourceResponses
from .responses.tenant import TenantResponses

if TYPE_CHECKING:
    from ..world import World

SUB = "/subscriptions/{sub}"
RG = SUB + "/resourceGroups/{rg}"
AUTHZ = "{scope:any}/providers/Microsoft.Authorization"
PUBLIC = ("/metadata/endpoints",)  # no token needed (``az cloud register`` reads it)


def _typed(res: ResourceResponses, type_: str) -> list[tuple[str, str, ArmHandler]]:
    """The routes of one resource type: its collections and its items (a child type, such as
    ``.../userAssignedIdentities/federatedIdentityCredentials``, lives under its parent)."""
    ns, *types = type_.split("/")
    keys = [*(["parent"] if len(types) > 1 else []), "name"]  # one level of nesting at most
    path = "/".join(f"{t}/{{{k}}}" for t, k in zip(types, keys, strict=True))
    item = f"{RG}/providers/{ns}/{path}"
    collection = item.rsplit("/", 1)[0]
    # fmt: off
    rows: list[tuple[str, str, ArmHandler]] = [
        ("GET",    collection,  res.list_typed),
        ("GET",    item,        res.get_resource),
        ("PUT",    item,        res.put_resource),
        ("PATCH",  item,        res.patch_resource),
        ("DELETE", item,        res.delete_resource),
        ("POST",   item,        res.unsupported_action),
    ]
    if len(types) == 1:  # a top-level type is also listed across the subscription
        rows.insert(0, ("GET", f"{SUB}/providers/{ns}/{types[0]}", res.list_typed))
    # fmt: on
    return rows


def table(world: World) -> list[tuple[str, str, ArmHandler]]:
    """(methods, path, handler), in the order they are tried."""
    tenant = TenantResponses(world)
    res = ResourceResponses(world)
    authz = AuthorizationResponses(world)
    ops = OperationResponses(world)
    msi = MsiResponses(world)
    # fmt: off
    return [
        # the cloud's endpoints
        ("GET",    "/metadata/endpoints",                                           tenant.metadata),
        # long-running operations (the URLs of the Azure-AsyncOperation and Location headers)
        ("GET",    SUB + "/providers/{ns}/locations/{loc}/operations/{op}",         ops.operation_status),
        ("GET",    SUB + "/providers/{ns}/locations/{loc}/operationStatuses/{op}",  ops.operation_status),
        ("GET",    SUB + "/providers/{ns}/locations/{loc}/operationResults/{op}",   ops.operation_status),
        ("GET",    SUB + "/operationresults/{op}",                                  ops.operation_status),
        # Microsoft.ManagedIdentity: the system-assigned identity of any resource
        ("GET",    "/subscriptions/{scope:path}/providers/Microsoft.ManagedIdentity/identities/default", msi.system_identity),
        # Microsoft.Authorization, at any scope ({scope} empty: the root)
        ("GET",    AUTHZ + "/roleDefinitions",                                      authz.list_role_definitions),
        ("GET",    AUTHZ + "/roleDefinitions/{name}",                               authz.get_role_definition),
        ("GET",    AUTHZ + "/roleAssignments",                                      authz.list_role_assignments),
        ("GET",    AUTHZ + "/roleAssignments/{name}",                               authz.get_role_assignment),
        ("PUT",    AUTHZ + "/roleAssignments/{name}",                               authz.put_role_assignment),
        ("DELETE", AUTHZ + "/roleAssignments/{name}",                               authz.delete_role_assignment),
        ("GET",    AUTHZ + "/permissions",                                          authz.list_permissions),
        # Microsoft.Resources: the tenant
        ("GET",    "/",                                                             tenant.root),
        ("GET",    "/subscriptions",                                                tenant.list_subscriptions),
        ("GET",    "/tenants",                                                      tenant.list_tenants),
        ("GET",    "/providers",                                                    tenant.providers),
        ("GET",    "/providers/{ns}",                                               tenant.providers),
        # Microsoft.Resources: a subscription
        ("GET",    SUB,                                                             res.get_subscription),
        ("GET",    SUB + "/resourceGroups",                                         res.list_resource_groups),
        ("GET",    SUB + "/resources",                                              res.list_resources),
        ("GET",    SUB + "/providers",                                              tenant.providers),
        ("GET",    SUB + "/providers/{ns}",                                         tenant.providers),
        ("GET",    SUB + "/locations",                                              tenant.locations),
        # Microsoft.Resources: resource groups
        ("GET",    RG,                                                              res.get_resource_group),
        ("PUT",    RG,                                                              res.put_resource_group),
        ("PATCH",  RG,                                                              res.patch_resource_group),
        ("DELETE", RG,                                                              res.delete_resource_group),
        ("GET",    RG + "/resources",                                               res.list_resources),
        # resources of the types with rules of their own (models/msi.py, compute.py, insights.py,
        # web.py, containerapps.py, hybridcompute.py)
        ("POST",   RG + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}/listAssociatedResources", res.list_associated_resources),
        *_typed(res, UAMI),
        *_typed(res, FIC),
        *_typed(res, VM),
        *_typed(res, DCR),
        *_typed(res, DCE),
        *_typed(res, AUTOMATION),
        *_typed(res, VMSS),
        *_typed(res, WEBSITE),
        *_typed(res, WEB_SLOT),
        *_typed(res, CONTAINER_APP),
        *_typed(res, ARC),
        # any other path below a subscription: a resource of any type, or a 404
        ("GET|PUT|PATCH|DELETE|POST", SUB + "/{path:path}",                         res.any_resource),
    ]
    # fmt: on


def routes(world: World) -> Router:
    checks = ArmResponses(world)
    r = Router(
        case_insensitive=True,
        not_found=checks.no_route,
        not_allowed=checks.wrong_method,
    )
    for methods, path, handler in table(world):
        r.add(methods, path, checks.endpoint(handler, public=path in PUBLIC))
    return r
