"""The pipeline's role list against the sandbox, with RBAC and Graph permissions enforced.

Two pipeline identities hold exactly what ``pipeline_permissions`` lists, nothing more: the
apply identity converges the home side from nothing with ``xtenant apply --yes``; the plan
identity then plans it with nothing to change, and cannot apply a change.

Both sign in as the rendered pipelines make xtenant sign in: ``AZURE_CLIENT_ID`` +
``AZURE_TENANT_ID`` + ``AZURE_FEDERATED_TOKEN_FILE`` and no secret, so that
``DefaultAzureCredential`` uses ``WorkloadIdentityCredential``. The token in the file is a
managed identity's token from a sandbox host: the sandbox, like Entra for its own issuer,
takes only managed-identity tokens it issued as federated assertions, and GitHub's or Azure
DevOps' tokens cannot be minted here.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_world import Raw

from provisioning.ci import pipeline_permissions
from provisioning.config import load_config

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SUB = "8f3c2a10-4d5e-4f60-9a7b-0c0270500a01"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-vm/providers/Microsoft.Compute/virtualMachines/vm-vector"
RUNNER = (
    f"/subscriptions/{SUB}/resourceGroups/rg-vm/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/umi-ci-runner"
)
EXCHANGE = "api://AzureADTokenExchange"

# The demo's VM side (the sandbox's role catalog has no Automation Contributor, so the
# Automation account of examples/sandbox.yaml is left out).
CONFIG = f"""\
cloud: public
home:
  tenant_id: 8f3c2a10-4d5e-4f60-9a7b-0c0270500001
  subscription_id: {SUB}
  identities:
    - name: umi-vector
      resource_group: rg-identity
      location: westus2
      attach_to: [{VM}]
  apps:
    - key: logs
      display_name: Contoso Log Forwarder
      unique_name: contoso-log-forwarder
      redirect_uri: https://contoso.example/onboarded
      trusts: [umi-vector]
"""


def _runner_token(sb: Any, raw: Raw) -> tuple[str, str]:
    """A managed identity on vm-vector stands in for the CI's OIDC issuer: its token."""
    r = raw.arm("PUT", RUNNER, "2023-01-31", json={"location": "westus2"})
    assert r.status_code in (200, 201), r.text
    props = r.json()["properties"]
    r = raw.arm(
        "PATCH",
        VM,
        "2024-03-01",
        json={"identity": {"type": "UserAssigned", "userAssignedIdentities": {RUNNER: {}}}},
    )
    assert r.status_code in (200, 202), r.text
    host = sb.env(host="vm-vector")["AZURE_POD_IDENTITY_AUTHORITY_HOST"]
    r = httpx.get(
        f"{host}/metadata/identity/oauth2/token",
        params={"api-version": "2018-02-01", "resource": EXCHANGE, "client_id": props["clientId"]},
        headers={"Metadata": "true"},
        verify=ssl.create_default_context(cafile=sb.info["ca_bundle"]),
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"], props["principalId"]


def _setup(sb: Any, tmp_path: Path, *, drop: str | None = None) -> dict[str, Any]:
    """The two pipeline identities with the listed rights (less ``drop``, a role name)."""
    home = sb.info["tenants"]["contoso"]
    cfg_file = tmp_path / "xtenant.yaml"
    cfg_file.write_text(CONFIG)
    perms = [p for p in pipeline_permissions(load_config(cfg_file).config) if p.role != drop]

    token, runner = _runner_token(sb, Raw(sb.info, "contoso"))
    token_file = tmp_path / "oidc-token"
    token_file.write_text(token)

    directory, arm = sb.world.directory, sb.world.arm
    issuer = f"{sb.info['authority']}/{home['tenant_id']}/v2.0"
    ids: dict[str, dict[str, str]] = {}
    for who in ("apply", "plan"):
        graph = [p.role for p in perms if p.identity == who and p.kind == "graph-app-role"]
        ids[who] = directory.create_admin(home["tenant_id"], f"xtenant-{who}", graph)
        directory.create_fic(
            directory.app(ids[who]["app_object_id"]),
            {"name": "ci-runner", "issuer": issuer, "subject": runner, "audiences": [EXCHANGE]},
        )  # the secret create_admin made is never used
        for p in perms:
            if p.identity == who and p.kind == "azure-role":
                arm.assign_role(p.scope, p.role_id, ids[who]["principal_id"], "ServicePrincipal")
    return {"sb": sb, "config": cfg_file, "token_file": token_file, "ids": ids, "home": home}


@pytest.fixture()
def pipeline(fresh_sandbox: Any, tmp_path: Path) -> dict[str, Any]:
    return _setup(fresh_sandbox, tmp_path)


def _xtenant(pipeline: dict[str, Any], who: str, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AZURE_", "IDENTITY_", "IMDS_", "MSI_"))
    }
    env.update(pipeline["sb"].env())  # CA bundle, authority host, XTENANT_CLOUD
    env.update(
        AZURE_CLIENT_ID=pipeline["ids"][who]["client_id"],
        AZURE_TENANT_ID=pipeline["home"]["tenant_id"],
        AZURE_FEDERATED_TOKEN_FILE=str(pipeline["token_file"]),
    )
    return subprocess.run(
        [sys.executable, "-m", "provisioning", *argv, "-c", str(pipeline["config"])],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )


def test_the_listed_rights_are_enough_and_plan_cannot_write(pipeline: dict[str, Any]) -> None:
    sb, ids = pipeline["sb"], pipeline["ids"]
    mark = sb.mark()
    applied = _xtenant(pipeline, "apply", "apply", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Apply complete" in applied.stdout
    # every request was the apply identity's: signed in from the token file, no secret
    assert {e["caller"] for e in sb.requests(mark)} <= set(ids["apply"].values())

    planned = _xtenant(pipeline, "plan", "plan", "--detailed-exitcode")
    assert planned.returncode == 0, planned.stdout + planned.stderr  # converged, reads only

    cfg: Path = pipeline["config"]
    cfg.write_text(
        cfg.read_text().replace("location: westus2", "location: westus2\n      tags: {team: ci}")
    )
    assert _xtenant(pipeline, "plan", "plan", "--detailed-exitcode").returncode == 2
    refused = _xtenant(pipeline, "plan", "apply", "--yes")
    assert refused.returncode == 1
    assert "Managed Identity Contributor" in refused.stdout + refused.stderr
    assert _xtenant(pipeline, "apply", "apply", "--yes").returncode == 0


APPLY_ROLES = {  # role -> what xtenant says when it is missing
    "Managed Identity Contributor": "needs Managed Identity Contributor on resource group",
    "Managed Identity Operator": "permission denied to assign identity umi-vector",
    "Virtual Machine Contributor": "permission denied to change host",
    "Application.ReadWrite.OwnedBy": "cannot read app registrations",
}


@pytest.mark.parametrize("drop", APPLY_ROLES)
def test_each_listed_apply_right_is_needed(fresh_sandbox: Any, tmp_path: Path, drop: str) -> None:
    pipeline = _setup(fresh_sandbox, tmp_path, drop=drop)
    applied = _xtenant(pipeline, "apply", "apply", "--yes")
    assert applied.returncode == 1, applied.stdout + applied.stderr
    assert APPLY_ROLES[drop] in applied.stdout + applied.stderr


def test_each_apply_right_of_the_demo_is_covered() -> None:
    perms = pipeline_permissions(load_config(REPO / "examples" / "sandbox.yaml").config)
    listed = {p.role for p in perms if p.identity == "apply"}
    assert listed - set(APPLY_ROLES) == {"Automation Contributor"}  # not in the sandbox
