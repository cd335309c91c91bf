"""Where the MI token comes from: which managed-identity endpoint azure-identity will use
on this host, read from the same environment variables it reads."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any


def endpoint_info(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Which managed-identity endpoint azure-identity will use, read from the same
    environment variables it reads (never the secret header's value)."""
    env = os.environ if environ is None else environ
    if env.get("IDENTITY_ENDPOINT"):
        if env.get("IDENTITY_HEADER"):
            if env.get("IDENTITY_SERVER_THUMBPRINT"):
                return {"kind": "Service Fabric", "endpoint": env["IDENTITY_ENDPOINT"]}
            return {"kind": "App Service / Automation", "endpoint": env["IDENTITY_ENDPOINT"]}
        if env.get("IMDS_ENDPOINT"):
            return {"kind": "Azure Arc", "endpoint": env["IDENTITY_ENDPOINT"]}
    if env.get("MSI_ENDPOINT"):
        kind = "Azure ML" if env.get("MSI_SECRET") else "Cloud Shell"
        return {"kind": kind, "endpoint": env["MSI_ENDPOINT"]}
    if all(
        env.get(v)
        for v in ("AZURE_AUTHORITY_HOST", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE")
    ):
        return {"kind": "workload identity", "endpoint": env["AZURE_FEDERATED_TOKEN_FILE"]}
    base = env.get("AZURE_POD_IDENTITY_AUTHORITY_HOST") or "http://169.254.169.254"
    return {"kind": "IMDS", "endpoint": base.rstrip("/") + "/metadata/identity/oauth2/token"}
