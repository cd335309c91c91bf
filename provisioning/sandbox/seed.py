"""Seeds: ``empty`` (no tenants) and ``demo`` (the seed stories' three tenants).

``demo`` mirrors the write-ups the product grew from: Contoso runs a log shipper VM,
runbooks and a Functions app (home); Litware receives logs in a DCR (Azure customer); Fabrikam is a
Microsoft 365-only customer with SharePoint sites.
"""

from __future__ import annotations

import uuid
from typing import Any

from .world import World

_NS = uuid.UUID("2d8c1f4e-7a3b-5c6d-8e9f-0a1b2c3d4e5f")  # ids of generated tenants

CONTOSO = {
    "tid": "8f3c2a10-4d5e-4f60-9a7b-0c0270500001",
    "sub": "8f3c2a10-4d5e-4f60-9a7b-0c0270500a01",
}
LITWARE = {
    "tid": "5b1d7e20-6c3f-4a81-8b92-117a3e000002",
    "sub": "5b1d7e20-6c3f-4a81-8b92-117a3e000a02",
}
FABRIKAM = {"tid": "a4e2f630-7d4a-4b92-9ca3-fab41c000003"}

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
ADMIN_GRAPH_ROLES = (
    "Application.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "Directory.Read.All",
    "RoleManagement.ReadWrite.Directory",
    "Sites.FullControl.All",
)


def _tenant(world: World, name: str, tid: str, sub: str | None, display: str) -> dict[str, Any]:
    t = world.tenants.create(name, tenant_id=tid, display_name=display)
    world.directory.ensure_first_party(tid)
    admin = world.directory.create_admin(
        tid, f"{name}-sandbox-admin", graph_roles=ADMIN_GRAPH_ROLES
    )
    t["admin"] = {"client_id": admin["client_id"], "client_secret": admin["client_secret"]}
    t["subscription_id"] = sub
    t["resources"] = {}
    if sub:
        world.arm.create_subscription(tid, sub, f"{display} subscription")
        world.arm.assign_role(
            f"/subscriptions/{sub}", OWNER, admin["principal_id"], "ServicePrincipal"
        )
    world.tenants.update(t)
    return t


def _resource(
    world: World, t: dict[str, Any], short: str, rid: str, body: dict[str, Any]
) -> dict[str, Any]:
    doc = world.arm.seed_resource(rid, body)
    t["resources"][short] = doc["id"]
    return doc


def demo(world: World) -> None:
    c = _tenant(world, "contoso", CONTOSO["tid"], CONTOSO["sub"], "Contoso")
    sub = f"/subscriptions/{CONTOSO['sub']}"
    for rg in ("rg-identity", "rg-vm"):
        world.arm.put_resource_group(CONTOSO["sub"], rg, "westus2")
    _resource(
        world,
        c,
        "vm",
        f"{sub}/resourceGroups/rg-vm/providers/Microsoft.Compute/virtualMachines/vm-vector",
        {
            "location": "westus2",
            "properties": {
                "hardwareProfile": {"vmSize": "Standard_B2s"},
                "storageProfile": {
                    "osDisk": {
                        "osType": "Linux",
                        "name": "vm-vector-os",
                        "createOption": "FromImage",
                    }
                },
                "osProfile": {"computerName": "vm-vector", "adminUsername": "azureuser"},
                "provisioningState": "Succeeded",
            },
        },
    )
    _resource(
        world,
        c,
        "automation",
        f"{sub}/resourceGroups/rg-identity/providers/Microsoft.Automation/automationAccounts/aa-runbooks",
        {
            "location": "westus2",
            "identity": {"type": "SystemAssigned"},
            "properties": {"sku": {"name": "Basic"}, "state": "Ok"},
        },
    )
    world.tenants.update(c)
    # a Functions app (the classic write-ups' host), for a user-assigned identity
    add_host(world, "contoso", "functionapp", "func-reports", resource_group="rg-web")

    logs_customer(
        world,
        "litware",
        tenant_id=LITWARE["tid"],
        subscription_id=LITWARE["sub"],
        display="Litware",
        extra_groups=("NetworkWatcherRG",),
    )
    m365_customer(world, "fabrikam", tenant_id=FABRIKAM["tid"], display="Fabrikam")


def logs_customer(
    world: World,
    name: str,
    *,
    tenant_id: str | None = None,
    subscription_id: str | None = None,
    display: str | None = None,
    extra_groups: tuple[str, ...] = (),
) -> dict[str, Any]:
    """An Azure customer receiving logs: subscription, rg-logs, a DCE and a DCR with a
    ``Custom-vector_CL`` stream (resources keys ``dce`` and ``dcr``)."""
    tid = tenant_id or str(uuid.uuid5(_NS, f"tenant:{name}"))
    sub = subscription_id or str(uuid.uuid5(_NS, f"subscription:{name}"))
    lw = _tenant(world, name, tid, sub, display or name.capitalize())
    lsub = f"/subscriptions/{sub}"
    for rg in ("rg-logs", *extra_groups):
        world.arm.put_resource_group(sub, rg, "westus2")
    dce = _resource(
        world,
        lw,
        "dce",
        f"{lsub}/resourceGroups/rg-logs/providers/Microsoft.Insights/dataCollectionEndpoints/dce-vector",
        {
            "location": "westus2",
            "properties": {},
        },
    )
    _resource(
        world,
        lw,
        "dcr",
        f"{lsub}/resourceGroups/rg-logs/providers/Microsoft.Insights/dataCollectionRules/dcr-vector",
        {
            "location": "westus2",
            "properties": {
                "dataCollectionEndpointId": dce["id"],
                "streamDeclarations": {
                    "Custom-vector_CL": {
                        "columns": [
                            {"name": "TimeGenerated", "type": "datetime"},
                            {"name": "message", "type": "string"},
                            {"name": "host", "type": "string"},
                        ]
                    }
                },
                "destinations": {
                    "logAnalytics": [
                        {
                            "name": "law",
                            "workspaceResourceId": f"{lsub}/resourceGroups/rg-logs/providers/Microsoft.OperationalInsights/workspaces/law-logs",
                        }
                    ]
                },
                "dataFlows": [
                    {
                        "streams": ["Custom-vector_CL"],
                        "destinations": ["law"],
                        "outputStream": "Custom-vector_CL",
                    }
                ],
            },
        },
    )
    return world.tenants.update(lw)


def m365_customer(
    world: World, name: str, *, tenant_id: str | None = None, display: str | None = None
) -> dict[str, Any]:
    """A Microsoft 365-only customer: no subscription, three SharePoint sites."""
    tid = tenant_id or str(uuid.uuid5(_NS, f"tenant:{name}"))
    fb = _tenant(world, name, tid, None, display or name.capitalize())
    for site_name in ("Marketing", "Finance", "Projects"):
        site = world.directory.create_site(tid, site_name)
        fb["resources"][f"site-{site_name.lower()}"] = site["id"]
    return world.tenants.update(fb)


CUSTOMER_KINDS = {"logs": logs_customer, "m365": m365_customer}

# The hosts the control API creates (POST /_sandbox/hosts): kind -> (ARM type, default group,
# body). Bodies carry what each provider's spec requires of a create (tests/reference/hosts/).
_HOSTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "vm": (
        "Microsoft.Compute/virtualMachines",
        "rg-vm",
        {
            "properties": {
                "hardwareProfile": {"vmSize": "Standard_B2s"},
                "storageProfile": {"osDisk": {"osType": "Linux", "createOption": "FromImage"}},
            }
        },
    ),
    "vmss": (
        "Microsoft.Compute/virtualMachineScaleSets",
        "rg-vm",
        {
            "sku": {"name": "Standard_B2s", "tier": "Standard", "capacity": 2},
            "properties": {"upgradePolicy": {"mode": "Manual"}, "overprovision": False},
        },
    ),
    "automation": (
        "Microsoft.Automation/automationAccounts",
        "rg-identity",
        {"properties": {"sku": {"name": "Basic"}, "state": "Ok"}},
    ),
    "appservice": ("Microsoft.Web/sites", "rg-web", {"kind": "app", "properties": {}}),
    "functionapp": (
        "Microsoft.Web/sites",
        "rg-web",
        {"kind": "functionapp,linux", "properties": {"reserved": True}},
    ),
    "slot": ("Microsoft.Web/sites/slots", "rg-web", {"properties": {}}),
    "containerapp": (
        "Microsoft.App/containerApps",
        "rg-apps",
        {"properties": {"configuration": {"activeRevisionsMode": "Single"}, "template": {}}},
    ),
    # an Arc machine has its system-assigned identity from onboarding (azcmagent connect)
    "arc": (
        "Microsoft.HybridCompute/machines",
        "rg-arc",
        {"identity": {"type": "SystemAssigned"}, "properties": {"osType": "linux"}},
    ),
}
HOST_KINDS = tuple(_HOSTS)


def add_host(
    world: World,
    tenant: str,
    kind: str,
    name: str,
    *,
    resource_group: str | None = None,
    system_assigned: bool = False,
    site: str | None = None,
) -> dict[str, Any]:
    """A host of ``kind`` in ``tenant``'s subscription (a slot: of app ``site``), with its
    system-assigned identity on when asked (always, for an Arc machine). Returns it as
    ``sandbox.json`` lists hosts."""
    if kind not in _HOSTS:
        raise ValueError(f"kind must be one of {', '.join(_HOSTS)}")
    t = world.tenants.get(tenant)
    if t is None or not t.get("subscription_id"):
        raise ValueError(f"no tenant {tenant!r} with a subscription")
    type_, default_group, body = _HOSTS[kind]
    group = resource_group or default_group
    ns, *types = type_.split("/")
    if kind == "slot":
        if not site:
            raise ValueError("a slot needs site: the name of its App Service app")
        path = f"{types[0]}/{site}/{types[1]}/{name}"
    else:
        path = f"{types[0]}/{name}"
    rid = f"/subscriptions/{t['subscription_id']}/resourceGroups/{group}/providers/{ns}/{path}"
    doc = {"location": "westus2", **{k: v for k, v in body.items()}}
    if system_assigned:
        doc["identity"] = {"type": "SystemAssigned"}
    made = _resource(world, t, name if kind != "slot" else f"{site}-{name}", rid, doc)
    world.tenants.update(t)
    return next(h for h in world.arm.hosts() if h["resource_id"] == made["id"])


def seed(world: World, name: str) -> None:
    if name == "demo":
        demo(world)
    elif name != "empty":
        raise ValueError(f"unknown seed {name!r} (demo or empty)")
