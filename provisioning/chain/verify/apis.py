"""What verify's own HTTP reads share: the ARM api-versions it reads with, and the TLS
setting of the cloud (its CA bundle when it names one)."""

from __future__ import annotations

import ssl

from provisioning.core.armid import IDENTITY_API
from provisioning.core.clouds import Cloud
from provisioning.core.hosts import HOST_KINDS

HOST_APIS = {t: k.api_version for t, k in HOST_KINDS.items()}
ARM_READ_APIS = {
    "microsoft.resources/subscriptions": "2022-12-01",
    "microsoft.resources/subscriptions/resourcegroups": "2021-04-01",
    "microsoft.insights/datacollectionrules": "2022-06-01",
    "microsoft.insights/datacollectionendpoints": "2022-06-01",
    "microsoft.operationalinsights/workspaces": "2022-10-01",
    "microsoft.storage/storageaccounts": "2023-01-01",
    "microsoft.keyvault/vaults": "2023-07-01",
    "microsoft.eventhub/namespaces": "2024-01-01",
    **HOST_APIS,
    "microsoft.managedidentity/userassignedidentities": IDENTITY_API,
}
PROVIDERS_API = "2021-04-01"


def ssl_verify(cloud: Cloud) -> ssl.SSLContext | bool:
    """httpx's ``verify``: the cloud's CA bundle when it names one, else the system's."""
    return ssl.create_default_context(cafile=cloud.ca_bundle) if cloud.ca_bundle else True
