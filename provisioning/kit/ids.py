"""The ids a grant derives: computed here and nowhere else.

A role assignment's name and its role-definition id travel from the kit to every way a
customer can apply it (``xtenant customer apply``, ``assign-roles.sh``/``.ps1``, Bicep):
each of them reads the values the kit carries, and the kit takes them from this module.
``load_kit`` recomputes both and refuses a kit whose values differ (an edited kit). The
names of the Exchange Online objects a kit's PowerShell creates are derived here too; a
SharePoint site's Graph address is derived in ``core/sites.py``.
"""

from __future__ import annotations

import uuid

from provisioning.core import armid

ROLE_DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions"

ASSIGNMENT_NAMESPACE = uuid.UUID("6f0c5a4e-2b1d-5c8e-9a3f-7d4e1b2c6a90")
"""uuid5 namespace of role-assignment names.  Never change it: every role assignment
already made by a kit, a script or ``xtenant customer apply`` is named from it."""

EXCHANGE_NAMESPACE = uuid.UUID("b3d7c2a1-5e4f-5a6b-8c9d-0e1f2a3b4c5d")
"""uuid5 namespace of the Exchange Online objects a kit's commands create (management
scopes and management role assignments). Never change it, for the same reason."""


def assignment_name(scope: str, role_id: str, app_id: str) -> str:
    """The deterministic name (a GUID) of the assignment of ``role_id`` at ``scope``.

    Keyed by the home app's **appId**, not the service principal's object id: the name is
    known before the service principal exists in the customer tenant, so every way of
    applying the kit uses the same name and a retried create never makes a second one.
    ``uuid5(ASSIGNMENT_NAMESPACE, "scope|role_id|app_id")``, lowercase, canonical scope.
    """
    canonical = str(armid.parse(scope))
    key = f"{canonical.lower()}|{role_id.lower()}|{app_id.lower()}"
    return str(uuid.uuid5(ASSIGNMENT_NAMESPACE, key))


def role_definition_id(role_id: str, scope: str) -> str:
    """The role definition's ARM id as a role assignment at ``scope`` names it.

    Under the scope's subscription (what ARM returns and the az CLI sends) when the scope
    lies in one; tenant-level for management-group and root scopes.
    """
    sub = armid.parse(scope).subscription_id
    prefix = f"/subscriptions/{sub}" if sub else ""
    return f"{prefix}/providers/{ROLE_DEFINITION_TYPE}/{role_id.lower()}"


def role_guid_of(definition_id: str) -> str:
    """The GUID at the end of a role definition's ARM id (as ARM returns it)."""
    return definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def assignment_id(scope: str, name: str) -> str:
    """The ARM id of the role assignment ``name`` at ``scope``."""
    return f"{armid.parse(scope)}/providers/Microsoft.Authorization/roleAssignments/{name}"


def exchange_scope_name(app_id: str, recipient_filter: str) -> str:
    """The management scope (``New-ManagementScope -Name``) holding ``recipient_filter``
    for this app: one per app and filter, so re-running the kit's commands finds it."""
    key = f"scope|{app_id.lower()}|{recipient_filter}"
    return f"xtenant-{uuid.uuid5(EXCHANGE_NAMESPACE, key)}"


def exchange_assignment_name(
    app_id: str, role: str, recipient_filter: str | None, administrative_unit: str | None
) -> str:
    """The management role assignment (``New-ManagementRoleAssignment -Name``, at most 64
    characters) of ``role`` for this app at this scope."""
    scope = (
        f"filter:{recipient_filter}"
        if recipient_filter is not None
        else f"au:{administrative_unit.lower()}"
        if administrative_unit is not None
        else "organization"
    )
    key = f"assignment|{app_id.lower()}|{role.casefold()}|{scope}"
    return f"xtenant-{uuid.uuid5(EXCHANGE_NAMESPACE, key)}"
