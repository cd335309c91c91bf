"""What this ARM answers for: each resource provider's types with their api-versions (the
ones the installed SDKs send among them), as ``/providers`` lists them, and the locations."""

from __future__ import annotations

PROVIDERS: dict[str, dict[str, list[str]]] = {
    "Microsoft.ManagedIdentity": {
        "userAssignedIdentities": [
            "2024-11-30",
            "2023-01-31",
            "2022-01-31-preview",
            "2021-09-30-preview",
            "2018-11-30",
        ],
        "userAssignedIdentities/federatedIdentityCredentials": ["2024-11-30", "2023-01-31"],
        "operations": ["2024-11-30", "2023-01-31"],
    },
    "Microsoft.Compute": {
        "virtualMachines": [
            "2026-04-01",
            "2025-04-01",
            "2024-11-01",
            "2024-07-01",
            "2024-03-01",
            "2023-09-01",
            "2023-03-01",
        ],
        "locations/operations": ["2026-04-01", "2024-03-01"],
    },
    "Microsoft.Authorization": {
        "roleAssignments": ["2022-04-01", "2020-10-01-preview", "2015-07-01"],
        "roleDefinitions": ["2022-04-01", "2018-01-01-preview", "2015-07-01"],
    },
    "Microsoft.Insights": {
        "dataCollectionRules": ["2023-03-11", "2022-06-01", "2021-09-01-preview"],
        "dataCollectionEndpoints": ["2023-03-11", "2022-06-01", "2021-09-01-preview"],
    },
    "Microsoft.Automation": {"automationAccounts": ["2023-11-01", "2022-08-08", "2021-06-22"]},
    "Microsoft.Web": {"sites": ["2023-12-01", "2022-09-01"]},
    "Microsoft.HybridCompute": {"machines": ["2024-07-10", "2022-12-27"]},
    "Microsoft.Resources": {
        "subscriptions": ["2022-12-01", "2021-01-01"],
        "resourceGroups": ["2024-03-01", "2022-09-01", "2021-04-01"],
        "tenants": ["2022-12-01", "2021-01-01"],
    },
}
LOCATIONS = [
    "eastus",
    "eastus2",
    "westus",
    "westus2",
    "westus3",
    "centralus",
    "northeurope",
    "westeurope",
    "uksouth",
    "swedencentral",
    "australiaeast",
    "japaneast",
]
