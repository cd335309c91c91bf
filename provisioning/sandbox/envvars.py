"""The variables that point unmodified Azure clients (and xtenant) at a sandbox."""

from __future__ import annotations

from typing import Any


def env_vars(
    info: dict[str, Any], host: str | None = None, admin: str | None = None
) -> dict[str, str]:
    out = {
        "REQUESTS_CA_BUNDLE": info["ca_bundle"],
        "SSL_CERT_FILE": info["ca_bundle"],
        "AZURE_AUTHORITY_HOST": info["authority"],
        "XTENANT_CLOUD": info["cloud_file"],
    }
    if host:
        out.update(info["hosts"][host]["env"])
    if admin:
        t = info["tenants"][admin]
        out.update(
            {
                "AZURE_TENANT_ID": t["tenant_id"],
                "AZURE_CLIENT_ID": t["admin"]["client_id"],
                "AZURE_CLIENT_SECRET": t["admin"]["client_secret"],
            }
        )
    return out
