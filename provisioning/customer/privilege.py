"""The customer side's own least-privilege check: what a kit asks that can change or grant
anything, judged from the ids (the catalog or the tenant's own role definition), never from
the kit's labels. The lists are the ones ``xtenant validate`` uses on the provider's side."""

from __future__ import annotations

from collections.abc import Iterable

from provisioning.core.catalog import PRIVILEGED_ROLE_NAMES, graph, roles

# Actions that let a principal change or grant anything: a custom role holding one of
# them is as privileged as Owner or User Access Administrator.
_GRANTING_ACTIONS = (
    "*",
    "microsoft.authorization/*",
    "microsoft.authorization/*/write",
    "microsoft.authorization/roleassignments/*",
    "microsoft.authorization/roleassignments/write",
)


def role_is_privileged(role_id: str, actions: Iterable[str] | None = None) -> bool:
    """Built-in roles by the catalog's list; custom roles by their actions (read from the
    tenant by the caller)."""
    known = roles.lookup(role_id)
    if known is not None:
        return known.name in PRIVILEGED_ROLE_NAMES
    return any(a.lower() in _GRANTING_ACTIONS for a in actions or ())


def graph_is_privileged(app_role_id: str) -> bool:
    known = graph.lookup(app_role_id)
    return known is not None and known.privileged


def warning(what: str, reason: str | None) -> str:
    """The line shown beside a privileged grant: what it is and the provider's reason."""
    said = f"the provider's reason: {reason}" if reason else "the provider gave no reason"
    return f"PRIVILEGED: {what}; {said}"


def site_role_is_privileged(role: str) -> bool:
    """fullcontrol lets the app manage the site's permissions: grant anyone access."""
    return role == "fullcontrol"


def directory_role_is_privileged(template_id: str) -> bool:
    """By Microsoft's "privileged" label on the built-in role (an unknown role: refused
    earlier, by ``load_kit``)."""
    from provisioning.core.catalog import entra_roles

    known = entra_roles.lookup(template_id)
    return known is None or known.privileged
