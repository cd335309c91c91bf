"""Microsoft Graph's routing table: which handler serves which method on which path below
``/v1.0`` (the path grammar and the matching rules are in ``routing.py``).

``{name}`` is an entity key, as a segment (``applications/{id}``) or in parentheses
(``applications(appId='...')``, ``applications(uniqueName='...')``); the handler decides which
key names it accepts. The same table routes each item of a ``$batch``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..http import Router
from .responses.api import GraphApi
from .responses.app_role_assignments import AppRoleAssignmentResponses
from .responses.applications import ApplicationResponses
from .responses.batch import BatchResponses
from .responses.deleted_items import DeletedItemResponses
from .responses.directory import DirectoryResponses
from .responses.role_management import RoleManagementResponses
from .responses.service_principals import ServicePrincipalResponses
from .responses.sites import SiteResponses
from .routing import GraphRoute

if TYPE_CHECKING:
    from ..world import World

APP = "applications/{app}"
SP = "servicePrincipals/{sp}"
RM = "roleManagement/directory"


def table(world: World, api: GraphApi) -> list[GraphRoute]:
    apps = ApplicationResponses(world)
    sps = ServicePrincipalResponses(world)
    assigned_to = AppRoleAssignmentResponses(world, "appRoleAssignedTo")
    assignments = AppRoleAssignmentResponses(world, "appRoleAssignments")
    directory = DirectoryResponses(world)
    sites = SiteResponses(world)
    rm = RoleManagementResponses(world)
    deleted = DeletedItemResponses(world)
    batch = BatchResponses(api)
    # fmt: off
    rows = [
        # applications
        ("GET",    "applications",                                          apps.list),
        ("POST",   "applications",                                          apps.create),
        ("GET",    "applications/$count",                                   apps.count),
        ("GET",    APP,                                                     apps.get),
        ("PATCH",  APP,                                                     apps.update),
        ("DELETE", APP,                                                     apps.delete),
        ("POST",   APP + "/addPassword",                                    apps.add_password),
        ("POST",   APP + "/microsoft.graph.addPassword",                    apps.add_password),
        ("POST",   APP + "/removePassword",                                 apps.remove_password),
        ("POST",   APP + "/microsoft.graph.removePassword",                 apps.remove_password),
        ("GET",    APP + "/federatedIdentityCredentials",                   apps.list_fics),
        ("POST",   APP + "/federatedIdentityCredentials",                   apps.create_fic),
        ("GET",    APP + "/federatedIdentityCredentials/{fic}",             apps.get_fic),
        ("PATCH",  APP + "/federatedIdentityCredentials/{fic}",             apps.update_fic),
        ("DELETE", APP + "/federatedIdentityCredentials/{fic}",             apps.delete_fic),
        ("GET",    APP + "/owners",                                         apps.list_owners),
        ("POST",   APP + "/owners/$ref",                                    apps.add_owner),
        ("DELETE", APP + "/owners/{owner}/$ref",                            apps.remove_owner),
        # service principals
        ("GET",    "servicePrincipals",                                     sps.list),
        ("POST",   "servicePrincipals",                                     sps.create),
        ("GET",    "servicePrincipals/$count",                              sps.count),
        ("GET",    SP,                                                      sps.get),
        ("PATCH",  SP,                                                      sps.update),
        ("DELETE", SP,                                                      sps.delete),
        ("GET",    SP + "/owners",                                          sps.list_owners),
        ("POST",   SP + "/owners/$ref",                                     sps.add_owner),
        ("DELETE", SP + "/owners/{owner}/$ref",                             sps.remove_owner),
        # app role assignments, from the resource's side and from the client's
        ("GET",    SP + "/appRoleAssignedTo",                               assigned_to.list),
        ("POST",   SP + "/appRoleAssignedTo",                               assigned_to.create),
        ("GET",    SP + "/appRoleAssignedTo/{assignment}",                  assigned_to.get),
        ("DELETE", SP + "/appRoleAssignedTo/{assignment}",                  assigned_to.delete),
        ("GET",    SP + "/appRoleAssignments",                              assignments.list),
        ("POST",   SP + "/appRoleAssignments",                              assignments.create),
        ("GET",    SP + "/appRoleAssignments/{assignment}",                 assignments.get),
        ("DELETE", SP + "/appRoleAssignments/{assignment}",                 assignments.delete),
        # the organization, directory objects
        ("GET",    "organization",                                          directory.list_organization),
        ("GET",    "organization/{org}",                                    directory.get_organization),
        ("POST",   "directoryObjects/getByIds",                             directory.get_by_ids),
        ("POST",   "directoryObjects/microsoft.graph.getByIds",             directory.get_by_ids),
        # deleted items (soft-deleted applications and service principals)
        ("GET",    "directory/deletedItems/microsoft.graph.application",      deleted.list),
        ("GET",    "directory/deletedItems/graph.application",                deleted.list),
        ("GET",    "directory/deletedItems/microsoft.graph.servicePrincipal", deleted.list),
        ("GET",    "directory/deletedItems/graph.servicePrincipal",           deleted.list),
        ("GET",    "directory/deletedItems/{item}",                           deleted.get),
        ("DELETE", "directory/deletedItems/{item}",                           deleted.delete),
        ("POST",   "directory/deletedItems/{item}/restore",                   deleted.restore),
        ("POST",   "directory/deletedItems/{item}/microsoft.graph.restore",   deleted.restore),
        # SharePoint sites and their Sites.Selected grants
        ("GET",    "sites",                                                 sites.list),
        ("GET",    "sites/{site}",                                          sites.get),
        ("GET",    "sites/{site}/permissions",                              sites.list_permissions),
        ("POST",   "sites/{site}/permissions",                              sites.grant),
        ("GET",    "sites/{site}/permissions/{perm}",                       sites.get_permission),
        ("PATCH",  "sites/{site}/permissions/{perm}",                       sites.update_permission),
        ("DELETE", "sites/{site}/permissions/{perm}",                       sites.revoke),
        ("GET",    "sites/{site}/lists",                                    sites.list_lists),
        ("GET",    "sites/{site}/lists/{list}",                             sites.get_list),
        ("GET",    "sites/{site}/lists/{list}/items",                       sites.list_items),
        ("POST",   "sites/{site}/lists/{list}/items",                       sites.add_item),
        # Microsoft Entra roles: built-in definitions and assignments
        ("GET",    RM + "/roleDefinitions",                                 rm.list_definitions),
        ("GET",    RM + "/roleDefinitions/{definition}",                    rm.get_definition),
        ("GET",    RM + "/roleAssignments",                                 rm.list_assignments),
        ("POST",   RM + "/roleAssignments",                                 rm.create_assignment),
        ("GET",    RM + "/roleAssignments/{assignment}",                    rm.get_assignment),
        ("DELETE", RM + "/roleAssignments/{assignment}",                    rm.delete_assignment),
        # JSON batching (not inside a batch)
        ("POST",   "$batch",                                                batch.batch),
    ]
    # fmt: on
    return [GraphRoute.of(method, path, handler) for method, path, handler in rows]


def routes(world: World) -> Router:
    """The HTTP side: everything below ``/v1.0`` goes to the API, which routes it by ``table``."""
    api = GraphApi(world)
    api.routes = table(world, api)
    r = Router(case_insensitive=True, not_found=api.unknown_path)
    r.add("GET|POST|PATCH|PUT|DELETE", "/v1.0", api.handle)
    r.add("GET|POST|PATCH|PUT|DELETE", "/v1.0/{rest:path}", api.handle)
    return r
