"""Typed readers of the real world, read once per run and shared by every part.

``HomeState`` (``home.py``): identities with their client/principal/ARM ids, the hosts'
identity blocks (``hosts.py``), app registrations with their app/object ids, their federated
credentials, the apps' home service principals. ``CustomerState`` (``customer.py``): our
service principal, its Graph app-role grants, the app roles Microsoft Graph publishes, the
role assignments at the kit's scopes. Every value is frozen; the readers are async and
never write. ``Observed`` (``observed.py``) is what one run has read so far.
"""

from __future__ import annotations

from .customer import (
    AppRoleGrant,
    CustomerState,
    GraphResource,
    RoleAssignmentState,
    RoleDefinitionState,
)
from .home import (
    AppState,
    Fic,
    HomeState,
    IdentityState,
    ResourceAccess,
    ServicePrincipalState,
    read_home,
)
from .hosts import HostIdentity
from .observed import Observed

__all__ = [
    "AppRoleGrant",
    "AppState",
    "CustomerState",
    "Fic",
    "GraphResource",
    "HomeState",
    "HostIdentity",
    "IdentityState",
    "Observed",
    "ResourceAccess",
    "RoleAssignmentState",
    "RoleDefinitionState",
    "ServicePrincipalState",
    "read_home",
]
