"""Parameter files for the Bicep modules in ``bicep/`` (``xtenant bicep params``).

``bicep/home.bicep`` declares the home side of the chain (identities, the multi-tenant apps,
their federated credentials, optionally the apps' home service principals) for teams that
deploy with Bicep. Its parameter file is rendered here from the same configuration that
``xtenant apply`` reads, so both paths converge on the same objects:

    from provisioning.bicep_params import render_home_parameters
    text = render_home_parameters(config, cloud)      # home.parameters.json

The output is deterministic: the same configuration and cloud give byte-identical JSON
(objects with sorted keys, lists in configuration order, except redirect URIs and Graph app
roles, which are sorted as the engine sorts them).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from provisioning.config import App, Config, Identity
from provisioning.core import armid
from provisioning.core.clouds import Cloud
from provisioning.core.hosts import host_kind

PARAMETERS_SCHEMA = (
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"
)
CONTENT_VERSION = "1.0.0.0"
HOME_TEMPLATE = "home.bicep"


def bicep_dir() -> Path:
    """Where the Bicep modules are: ``bicep/`` in a checkout, ``provisioning/bicep/`` in the
    wheel (hatchling force-include)."""
    checkout = Path(__file__).resolve().parents[2] / "bicep"
    if (checkout / HOME_TEMPLATE).is_file():
        return checkout
    return Path(str(resources.files("provisioning") / "bicep"))


def _identity(ident: Identity) -> dict[str, Any]:
    return {
        "name": ident.name,
        "resourceGroup": ident.resource_group,
        "location": ident.location,
        "tags": dict(sorted(ident.tags.items())),
    }


def _app(config: Config, app: App) -> dict[str, Any]:
    # trusts: the declared spelling of each identity (lookups in the config ignore case;
    # the template's indexOf does not)
    # (a host's system-assigned identity is not Bicep's to make: `xtenant apply` trusts it)
    trusts = [i.name for name in app.trusts if not (i := config.identity(name)).system_assigned]
    roles = sorted(app.graph_roles, key=lambda r: r.id)
    out: dict[str, Any] = {
        "key": app.key,
        "displayName": app.display_name,
        "uniqueName": app.unique_name,
        "redirectUris": sorted(app.redirect_uris),
        "trusts": trusts,
        "graphAppRoles": [{"id": r.id, "value": r.value} for r in roles],
        "servicePrincipal": app.service_principal,
    }
    if app.description:
        out["description"] = app.description
    return out


def home_parameters(config: Config, cloud: Cloud) -> dict[str, Any]:
    """The content of ``home.parameters.json`` for ``bicep/home.bicep``.

    ``ficIssuer`` and ``exchangeAudience`` come from the cloud profile and the home tenant, so
    the credentials Bicep creates are the ones ``xtenant plan`` expects.
    """
    home = config.home
    parameters: dict[str, Any] = {
        "ficIssuer": cloud.fic_issuer(home.tenant_id),
        "exchangeAudience": cloud.exchange_audience,
        "identities": [_identity(i) for i in home.identities if not i.system_assigned],
        "apps": [_app(config, a) for a in home.apps],
    }
    return {
        "$schema": PARAMETERS_SCHEMA,
        "contentVersion": CONTENT_VERSION,
        "parameters": {k: {"value": v} for k, v in parameters.items()},
    }


def render_home_parameters(config: Config, cloud: Cloud) -> str:
    """``home_parameters`` as JSON text: sorted keys, two-space indent, final newline."""
    return json.dumps(home_parameters(config, cloud), indent=2, sort_keys=True) + "\n"


def identity_resource_id(subscription_id: str, ident: Identity) -> str:
    return armid.user_assigned_identity_id(subscription_id, str(ident.resource_group), ident.name)


def attach_commands(config: Config) -> list[str]:
    """What ``home.bicep`` cannot do: attach the identities to their hosts (``attach_to``).

    One ``az ... identity assign`` line per host whose kind has one (it merges with the
    host's other identities); for other host kinds, and for a host's system-assigned
    identity, a comment pointing to ``xtenant apply``.
    """
    out: list[str] = []
    sub = config.home.subscription_id
    for ident in config.home.identities:
        if ident.system_assigned_of is not None:
            out.append(
                f"# {ident.name}: the system-assigned identity of {ident.system_assigned_of}; "
                "`xtenant apply` enables it and makes the app's credential for it"
            )
            continue
        uami = identity_resource_id(sub, ident)
        for host in ident.attach_ids:
            kind = host_kind(host)
            if kind.az_assign:
                out.append(kind.az_assign.format(host=host, identity=uami))
            else:
                out.append(
                    f"# {kind.label} {host}: attach {ident.name} with `xtenant apply` "
                    "(it merges with the host's other identities)"
                )
    return out


def home_parameter_warnings(config: Config, cloud: Cloud) -> list[str]:
    """Things the operator should know before deploying ``home.bicep`` with these parameters."""
    out: list[str] = []
    if cloud.name != "public":
        out.append(
            f"cloud {cloud.name!r}: Microsoft Graph Bicep deployments are documented for the "
            "public cloud only; check that your cloud supports the Microsoft Graph extension"
        )
    for app in config.home.apps:
        if app.adopt_app_id:
            out.append(
                f"app {app.key!r} adopts an existing app (adopt_app_id): Bicep finds apps by "
                f"uniqueName only, so run `xtenant apply` once first to give app "
                f"{app.adopt_app_id} the uniqueName {app.unique_name!r}, or Bicep creates a "
                "second app"
            )
    if any(i.attach_to for i in config.home.identities):
        out.append(
            "attach_to is not deployed by home.bicep: run `xtenant apply` (or the az commands "
            "from attach_commands) after the deployment"
        )
    return out


__all__ = [
    "CONTENT_VERSION",
    "HOME_TEMPLATE",
    "PARAMETERS_SCHEMA",
    "attach_commands",
    "bicep_dir",
    "home_parameter_warnings",
    "home_parameters",
    "identity_resource_id",
    "render_home_parameters",
]
