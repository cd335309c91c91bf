"""Tasks on a customer (resource) tenant, run with the customer admin's own credentials
from a kit: the app's service principal (consent), Graph app-role grants, RBAC, and the
scoped grants (SharePoint site permissions, Microsoft Entra directory roles; Exchange
Online application roles are PowerShell only, see ``exchange.py``).

They take the kit's own types (``Kit``, ``KitRole``, ``KitGraphRole``, ``KitSitePermission``,
``KitDirectoryRole``): the kit is the contract, so what a task grants is exactly what the
kit lists, read one way. On remove every grant goes in stage 0, the service principal in 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provisioning.core.engine import Task
    from provisioning.kit.model import Kit


def customer_tasks(kit: Kit, *, remove: bool = False) -> list[Task]:
    from .directory_roles import DirectoryRoleTask
    from .grants import GraphGrantsTask
    from .rbac import RoleAssignmentTask
    from .service_principal import CustomerSpTask
    from .sites import SitePermissionTask

    tasks: list[Task] = [CustomerSpTask(kit, remove=remove)]
    if kit.graph_app_roles:
        tasks.append(GraphGrantsTask(kit, remove=remove))
    tasks.extend(RoleAssignmentTask(kit, role, remove=remove) for role in kit.roles)
    tasks.extend(SitePermissionTask(kit, p, remove=remove) for p in kit.site_permissions)
    tasks.extend(DirectoryRoleTask(kit, r, remove=remove) for r in kit.directory_roles)
    return tasks


def label(kit: Kit) -> str:
    """The address prefix of a customer's objects in plans (``customer[litware]``)."""
    from provisioning.state.customer import label as state_label

    return state_label(kit)
