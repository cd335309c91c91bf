"""The ids a grant derives: computed here and nowhere else.

A role assignment's name and its role-definition id travel from the kit to every way a
customer can apply it (``xtenant customer apply``, ``assign-roles.sh``/``.ps1``, Bicep):
each of them reads the values the kit carries, and the kit takes them from this module.
``load_kit`` recomputes both and refuses a kit whose values differ (an edited kit).
"""

from __future__ import annotations

import uuid

from provisioning.core import armid

ROLE_DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions"

ASSIGNMENT_NAMESPACE = uuid.UUID("6f0c5a4e-2b1d-5c8e-9a3f-7d4e1b2c6a90")
"""uuid5 namespace of role-assignment names.  Never change it: every role assignment
already made by a kit, a script or ``xtenant customer apply`` is named from it."""


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
