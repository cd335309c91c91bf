"""Where the MI token comes from: which managed-identity endpoint azure-identity will use
on this host, read from the same environment variables it reads, named as the host
registry (``core/hosts.py``) names the protocols."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from provisioning.core.hosts import ENDPOINTS, endpoint_for


def endpoint_info(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Which managed-identity endpoint azure-identity will use, read from the same
    environment variables it reads (never the secret header's value): ``kind`` (the
    protocol), ``endpoint`` (the URL it asks) and ``protocol`` (the registry's key)."""
    env = os.environ if environ is None else environ
    found = endpoint_for(env)
    if found is not None and found.key != "imds":
        return {"kind": found.label, "endpoint": env["IDENTITY_ENDPOINT"], "protocol": found.key}
    if env.get("IDENTITY_ENDPOINT") and env.get("IDENTITY_SERVER_THUMBPRINT"):
        return {"kind": "Service Fabric", "endpoint": env["IDENTITY_ENDPOINT"]}
    if env.get("MSI_ENDPOINT"):
        kind = "Azure ML" if env.get("MSI_SECRET") else "Cloud Shell"
        return {"kind": kind, "endpoint": env["MSI_ENDPOINT"]}
    if all(
        env.get(v)
        for v in ("AZURE_AUTHORITY_HOST", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE")
    ):
        return {"kind": "workload identity", "endpoint": env["AZURE_FEDERATED_TOKEN_FILE"]}
    base = env.get("AZURE_POD_IDENTITY_AUTHORITY_HOST") or "http://169.254.169.254"
    imds = ENDPOINTS[0]
    return {
        "kind": imds.label,
        "endpoint": base.rstrip("/") + "/metadata/identity/oauth2/token",
        "protocol": imds.key,
    }
