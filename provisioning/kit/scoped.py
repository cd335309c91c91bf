"""What the kit's templates are given for the scoped grants (SharePoint site permissions,
Microsoft Entra directory roles, Exchange Online application roles), and which of their
files a kit holds. Every value comes from the ``Kit``; request bodies are built here as
JSON (the templates escape them once more for the language they land in)."""

from __future__ import annotations

import json
from typing import Any

from .model import Kit

SCOPED_SH = "scoped-grants.sh"
SCOPED_PS = "scoped-grants.ps1"
EXCHANGE_PS = "exchange-rbac.ps1"

SCOPED_SNIPPETS = (
    "run-scoped-az.sh",
    "run-scoped-ps.ps1",
    "run-exchange.ps1",
    "verify-scoped-az.sh",
    "verify-scoped-ps.ps1",
    "verify-exchange.ps1",
    "revoke-scoped-az.sh",
    "revoke-scoped-ps.ps1",
    "revoke-exchange.ps1",
)
"""The commands the kit's page and README show for the scoped grants."""

# Microsoft Graph PowerShell's environment names (Connect-MgGraph -Environment).
_MG_ENVIRONMENTS = {"public": "Global", "usgov": "USGov", "china": "China"}


def scoped_files(kit: Kit) -> list[str]:
    """The scoped grants' scripts this kit holds (none when it asks for none)."""
    out = []
    if kit.site_permissions or kit.directory_roles:
        out += [SCOPED_SH, SCOPED_PS]
    if kit.exchange_roles:
        out.append(EXCHANGE_PS)
    return out


def scoped_context(kit: Kit) -> dict[str, Any]:
    app = kit.home.app
    sites = []
    for i, p in enumerate(kit.site_permissions):
        ref = p.ref
        grant = {
            "roles": [p.role],
            "grantedToIdentities": [
                {"application": {"id": app.app_id, "displayName": app.display_name}}
            ],
        }
        sites.append(
            {
                "index": i,
                "site": p.site,
                "label": ref.label,
                "role": p.role,
                "why": p.why,
                "graph_path": ref.graph_path,
                "grant_body": json.dumps(grant, ensure_ascii=False, separators=(",", ":")),
                "role_body": json.dumps({"roles": [p.role]}, separators=(",", ":")),
                "privileged": p.role == "fullcontrol",
                "allow_privileged": p.allow_privileged,
            }
        )
    directory = [
        {
            "index": i,
            "role": d.role,
            "template_id": d.template_id,
            "scope": d.scope,
            "scope_label": "the whole tenant"
            if d.scope == "/"
            else f"administrative unit {d.scope.rsplit('/', 1)[-1]}",
            "description": d.description,
            "why": d.why,
            "allow_privileged": d.allow_privileged,
        }
        for i, d in enumerate(kit.directory_roles)
    ]
    exchange = [
        {
            "index": i,
            "role": x.role,
            "permissions": ", ".join(x.permissions),
            "recipient_filter": x.recipient_filter,
            "administrative_unit": x.administrative_unit,
            "scope_name": x.scope_name,
            "assignment_name": x.assignment_name,
            "mailboxes": (
                f"mailboxes matching {x.recipient_filter}"
                if x.recipient_filter
                else f"mailboxes of administrative unit {x.administrative_unit}"
                if x.administrative_unit
                else "every mailbox of the organization"
            ),
            "why": x.why,
            "allow_privileged": x.allow_privileged,
        }
        for i, x in enumerate(kit.exchange_roles)
    ]
    return {
        "site_grants": sites,
        "directory_grants": directory,
        "exchange_grants": exchange,
        "has_scoped": bool(sites or directory or exchange),
        "mg_environment": _MG_ENVIRONMENTS.get(kit.cloud.name),
        "mg_scopes": [
            s
            for s, wanted in (
                ("Sites.FullControl.All", bool(sites)),
                ("RoleManagement.ReadWrite.Directory", bool(directory)),
                ("Application.Read.All", True),
            )
            if wanted
        ],
    }
