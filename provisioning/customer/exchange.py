"""Exchange Online RBAC for Applications: PowerShell only (no Graph API creates management
role assignments), so ``customer apply`` does not grant it; it says so, plainly, and points
at the kit's ``exchange-rbac.ps1`` (https://learn.microsoft.com/exchange/permissions-exo/application-rbac)."""

from __future__ import annotations

from provisioning.kit.model import Kit


def exchange_note(kit: Kit, *, remove: bool = False) -> str | None:
    """The line ``customer plan|apply|remove`` adds when the kit asks for Exchange roles."""
    if not kit.exchange_roles:
        return None
    names = ", ".join(x.role for x in kit.exchange_roles)
    if remove:
        return (
            f"not done by xtenant: the Exchange Online application roles ({names}) are removed "
            "with PowerShell by an Exchange administrator: run  ./exchange-rbac.ps1 -Remove  "
            "from the kit (Exchange Online PowerShell), before the enterprise application goes"
        )
    return (
        f"not done by xtenant: the Exchange Online application roles ({names}) are granted "
        "with PowerShell only; an Exchange administrator runs  ./exchange-rbac.ps1  from the "
        "kit (Exchange Online PowerShell), then checks it with Test-ServicePrincipalAuthorization"
    )
