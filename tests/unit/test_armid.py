"""ARM id parsing: structure, case-insensitivity, scope chains, host kinds."""

from __future__ import annotations

import pytest

from provisioning.core import armid
from provisioning.core.armid import ResourceId, parse

SUB = "8f3c2a10-4d5e-4f60-9a7b-0c0270500a01"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-vm"
VM = f"{RG}/providers/Microsoft.Compute/virtualMachines/vm-vector"


def test_root() -> None:
    rid = parse("/")
    assert rid.kind == "root"
    assert str(rid) == "/"
    assert rid.parent is None
    assert rid.name == ""
    assert rid.full_type == ""


def test_subscription() -> None:
    rid = parse(f"/subscriptions/{SUB.upper()}")
    assert rid.kind == "subscription"
    assert rid.subscription_id == SUB
    assert str(rid) == f"/subscriptions/{SUB}"
    assert rid.full_type == "Microsoft.Resources/subscriptions"
    assert rid.parent == armid.ROOT


def test_resource_group_canonical_keywords() -> None:
    rid = parse(f"/SUBSCRIPTIONS/{SUB}/resourcegroups/rg-vm")
    assert rid.kind == "resource_group"
    assert rid.resource_group == "rg-vm"
    assert str(rid) == RG
    assert rid.full_type == "Microsoft.Resources/resourceGroups"
    assert rid.parent == parse(f"/subscriptions/{SUB}")


def test_resource() -> None:
    rid = parse(VM)
    assert rid.kind == "resource"
    assert rid.namespace == "Microsoft.Compute"
    assert rid.types == ("virtualMachines",)
    assert rid.names == ("vm-vector",)
    assert rid.full_type == "Microsoft.Compute/virtualMachines"
    assert rid.name == "vm-vector"
    assert rid.subscription_id == SUB
    assert rid.resource_group == "rg-vm"
    assert rid.parent == parse(RG)
    assert not rid.is_extension
    assert str(rid) == VM


def test_nested_child_types() -> None:
    rid = parse(f"{VM}/extensions/ama/settings/s1")
    assert rid.types == ("virtualMachines", "extensions", "settings")
    assert rid.names == ("vm-vector", "ama", "s1")
    assert rid.full_type == "Microsoft.Compute/virtualMachines/extensions/settings"
    assert rid.name == "s1"
    assert rid.parent == parse(f"{VM}/extensions/ama")
    assert [str(a) for a in rid.ancestors()] == [
        f"{VM}/extensions/ama",
        VM,
        RG,
        f"/subscriptions/{SUB}",
        "/",
    ]


def test_management_group_and_extension_on_it() -> None:
    mg = parse("/providers/microsoft.management/MANAGEMENTGROUPS/mg-root")
    assert mg.kind == "management_group"
    assert mg.management_group == "mg-root"
    assert str(mg) == "/providers/Microsoft.Management/managementGroups/mg-root"
    assert mg.parent == armid.ROOT
    ra = parse(f"{mg}/providers/Microsoft.Authorization/roleAssignments/ra1")
    assert ra.kind == "resource"
    assert ra.full_type == "Microsoft.Authorization/roleAssignments"
    assert ra.parent == mg
    assert ra.management_group == "mg-root"
    assert ra.is_within(mg)


def test_extension_resource_on_a_resource() -> None:
    dcr = f"/subscriptions/{SUB}/resourceGroups/rg-logs/providers/Microsoft.Insights/dataCollectionRules/dcr-vector"
    ra = parse(f"{dcr}/providers/Microsoft.Authorization/roleAssignments/abc")
    assert ra.is_extension
    assert ra.full_type == "Microsoft.Authorization/roleAssignments"
    assert ra.name == "abc"
    assert ra.parent == parse(dcr)
    assert ra.resource_group == "rg-logs"
    assert ra.is_within(parse(f"/subscriptions/{SUB}"))


def test_tenant_level_resource() -> None:
    rid = parse(
        "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
    )
    assert rid.kind == "resource"
    assert rid.subscription_id is None
    assert rid.parent == armid.ROOT
    assert str(rid).startswith("/providers/Microsoft.Authorization/roleDefinitions/")


def test_equality_and_hash_ignore_case() -> None:
    a = parse(VM)
    b = parse(VM.upper().replace("SUBSCRIPTIONS", "subscriptions"))
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != parse(RG)
    assert a != VM  # not equal to a plain string


def test_is_within() -> None:
    vm, rg, sub = parse(VM), parse(RG), parse(f"/subscriptions/{SUB}")
    assert vm.is_within(vm)
    assert vm.is_within(rg)
    assert vm.is_within(sub)
    assert vm.is_within(armid.ROOT)
    assert not rg.is_within(vm)
    other = parse(f"/subscriptions/{SUB}/resourceGroups/rg-vm2")
    assert not vm.is_within(other)


def test_frozen() -> None:
    rid = parse(VM)
    with pytest.raises(AttributeError):
        rid.kind = "root"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "starts with '/'"),
        ("subscriptions/x", "starts with '/'"),
        ("/subscriptions/x", "not a GUID"),
        ("/subscriptions", "needs a subscription id"),
        (f"/subscriptions/{SUB}/resourceGroups", "needs a resource group name"),
        (f"/subscriptions/{SUB}/", "empty path segment"),
        (f"/subscriptions/{SUB}//resourceGroups/rg", "empty path segment"),
        (f"/subscriptions/{SUB}/rg/x", "expected 'providers' or 'resourceGroups'"),
        ("/tenants/x", "expected 'subscriptions' or 'providers'"),
        (f"{RG}/providers", "needs a resource provider namespace"),
        (f"{RG}/providers/Compute/virtualMachines/vm", "not a resource provider namespace"),
        (f"{RG}/providers/Microsoft.Compute", "needs a resource type and name"),
        (f"{RG}/providers/Microsoft.Compute/virtualMachines", "has no name"),
        (f"{VM}/extensions", "has no name"),
        (f"{RG}/providers/Microsoft.Compute/virtual-machines/vm", "not a resource type name"),
        (f"{VM}/providers", "needs a resource provider namespace"),
    ],
)
def test_parse_errors(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("(", r"\(")):
        parse(text)


def test_parse_rejects_non_string() -> None:
    with pytest.raises(ValueError, match="expected a string"):
        parse(42)  # type: ignore[arg-type]


def test_try_parse() -> None:
    assert armid.try_parse("nope") is None
    assert armid.try_parse(VM) == parse(VM)


def test_repr_is_readable() -> None:
    assert repr(parse(RG)) == f"ResourceId('{RG}')"
    assert isinstance(parse(RG), ResourceId)
