"""The directory: applications, service principals, federated identity credentials, app
role assignments, SharePoint sites and organizations, with Microsoft Entra's rules.

State and rules only (moto's *model*); ``responses/`` parses Graph requests and renders
Graph responses. Other services use the methods listed in ``sandbox/README.md``
(``Directory`` section). Every object lives in one tenant (``_tenant``); an application is
also found globally by its ``appId`` (``_tenant`` is then its home tenant).

Stored documents have Microsoft's wire shape plus internal ``_`` fields:
``_tenant``, ``_created`` / ``_updated`` (sandbox clock, epoch seconds), ``_owners`` (object
ids of owning service principals), ``_secrets`` (salted hashes of client secrets),
``_app`` (a FIC's application object id), ``_grants`` (a site's Sites.Selected grants).

``Directory`` (``world.directory``) is the union of:

* ``applications.py``          applications and their password credentials
* ``federated_credentials.py`` federated identity credentials
* ``service_principals.py``    service principals (first-party, from apps, managed identities)
* ``assignments.py``           app role assignments, admin consent, the seeds' admins
* ``sites.py``                 SharePoint sites and their grants, the organization
* ``role_management.py``       Microsoft Entra role definitions and role assignments
* ``deleted_items.py``         soft-deleted applications and service principals (30 days)
"""

from __future__ import annotations

from ..exceptions import GraphError, bad_value, not_found
from .applications import Applications
from .assignments import AppRoleAssignments
from .base import GRAPH_APP_ID, public
from .deleted_items import DeletedItems
from .federated_credentials import FederatedCredentials
from .role_management import RoleManagement
from .service_principals import ServicePrincipals
from .sites import Sites

__all__ = ["GRAPH_APP_ID", "Directory", "GraphError", "bad_value", "not_found", "public"]


class Directory(
    Applications,
    FederatedCredentials,
    ServicePrincipals,
    AppRoleAssignments,
    Sites,
    RoleManagement,
    DeletedItems,
):
    """``world.directory``."""
