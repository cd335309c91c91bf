"""The host-kind registry (core/hosts.py): one table that every part consults.

(The host-kind tests of test_armid.py moved here with the registry; the kinds that were
"not supported yet" are supported now, so those cases became the tests of what each kind
is.)"""

from __future__ import annotations

import pytest

from provisioning.core.armid import parse
from provisioning.core.hosts import (
    APP_SERVICE,
    ARC,
    HOST_KINDS,
    IMDS,
    endpoint_for,
    host_kind,
    host_types,
)

SUB = "8f3c2a10-4d5e-4f60-9a7b-0c0270500a01"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-vm"
VM = f"{RG}/providers/Microsoft.Compute/virtualMachines/vm-vector"


def test_host_kinds_registry() -> None:
    assert set(host_types()) == {
        "Microsoft.Compute/virtualMachines",
        "Microsoft.Compute/virtualMachineScaleSets",
        "Microsoft.Automation/automationAccounts",
        "Microsoft.Web/sites",
        "Microsoft.Web/sites/slots",
        "Microsoft.App/containerApps",
        "Microsoft.HybridCompute/machines",
    }
    for kind in HOST_KINDS.values():
        assert kind.role and len(kind.role_id) == 36, kind
        assert kind.docs.startswith("https://learn.microsoft.com/"), kind
        assert kind.endpoint in (IMDS, APP_SERVICE, ARC)


def test_host_kind_lookup_ignores_case() -> None:
    assert host_kind(parse(VM)).label == "virtual machine"
    aa = parse(f"{RG}/providers/microsoft.automation/AutomationAccounts/aa-runbooks")
    assert host_kind(aa).full_type == "Microsoft.Automation/automationAccounts"


@pytest.mark.parametrize(
    ("rid", "endpoint", "role", "user_assigned"),
    [
        (f"{RG}/providers/Microsoft.Web/sites/app1", APP_SERVICE, "Website Contributor", True),
        (
            f"{RG}/providers/Microsoft.Web/sites/app1/slots/staging",
            APP_SERVICE,
            "Website Contributor",
            True,
        ),
        (
            f"{RG}/providers/Microsoft.Compute/virtualMachineScaleSets/vmss1",
            IMDS,
            "Virtual Machine Contributor",
            True,
        ),
        (
            f"{RG}/providers/Microsoft.App/containerApps/ca1",
            APP_SERVICE,
            "Container Apps Contributor",
            True,
        ),
        (
            f"{RG}/providers/Microsoft.HybridCompute/machines/arc1",
            ARC,
            "Azure Connected Machine Resource Administrator",
            False,
        ),
    ],
)
def test_each_new_kind(rid: str, endpoint: object, role: str, user_assigned: bool) -> None:
    kind = host_kind(parse(rid))
    assert kind.endpoint is endpoint
    assert kind.role == role
    assert kind.user_assigned is user_assigned
    assert role in kind.roles_needed()
    assert ("Managed Identity Operator" in kind.roles_needed()) is user_assigned


def test_host_kind_unknown_type_and_non_resource() -> None:
    with pytest.raises(ValueError, match="cannot host an identity"):
        host_kind(parse(f"{RG}/providers/Microsoft.Storage/storageAccounts/st1"))
    with pytest.raises(ValueError, match="expected a resource id, not a resource group"):
        host_kind(parse(RG))
    with pytest.raises(ValueError, match="cannot host"):
        host_kind(parse(f"{VM}/extensions/ama"))


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, IMDS),
        ({"IDENTITY_ENDPOINT": "http://x/msi/token", "IDENTITY_HEADER": "h"}, APP_SERVICE),
        ({"IDENTITY_ENDPOINT": "http://x/token", "IMDS_ENDPOINT": "http://x"}, ARC),
        (
            {
                "IDENTITY_ENDPOINT": "https://x",
                "IDENTITY_HEADER": "h",
                "IDENTITY_SERVER_THUMBPRINT": "t",
            },
            None,
        ),
    ],
)
def test_endpoint_from_the_variables_azure_identity_reads(
    environ: dict[str, str], expected: object
) -> None:
    assert endpoint_for(environ) is expected
