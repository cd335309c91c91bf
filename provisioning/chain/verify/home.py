"""What the home admin can tell (optional): app ids, FICs, identities, attachments.

Read once per run with the home credential, straight over HTTP.  Kept behind
``read_home_facts`` so that a shared typed reader of the home tenant can replace it.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from provisioning.config import App, Config, Identity
from provisioning.core.clouds import Cloud

from .apis import HOST_APIS, IDENTITY_API, ssl_verify
from .report import first_line

NO_CREDENTIAL_NOTE = (
    "no home credential: FICs and identity ids not read; the "
    "assertion is checked against the config only"
)


@dataclass
class HomeFacts:
    app_ids: dict[str, str] = field(default_factory=dict)  # app key -> appId
    app_in_home: dict[str, bool | None] = field(default_factory=dict)
    app_names: dict[str, str] = field(default_factory=dict)
    fics: dict[str, list[dict[str, Any]] | None] = field(default_factory=dict)
    identities: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> ids
    attached: dict[tuple[str, str], bool] = field(default_factory=dict)  # (identity, host)
    notes: list[str] = field(default_factory=list)


def _tokens(credential: Any, scopes: Iterable[str]) -> dict[str, str]:
    """One token per scope from a sync or async azure-core credential (kept in memory
    only for the reads below)."""
    scopes = list(scopes)
    get = credential.get_token
    if inspect.iscoroutinefunction(get):

        async def run() -> dict[str, str]:
            try:
                return {s: (await get(s)).token for s in scopes}
            finally:
                # its transport belongs to this event loop, which ends here
                closer = getattr(credential, "close", None)
                if closer is not None:
                    await closer()

        return asyncio.run(run())
    return {s: get(s).token for s in scopes}


def read_home_facts(
    config: Config,
    cloud: Cloud,
    credential: Any,
    apps: list[App],
    identities: list[Identity],
    app_ids: Mapping[str, str],
) -> HomeFacts:
    """What ``credential`` (a home admin's, sync or async; ``None``: nobody's) can read of
    ``apps`` and ``identities``; what it cannot read becomes a note, never an error."""
    if credential is None:
        return HomeFacts(notes=[NO_CREDENTIAL_NOTE])
    import httpx

    facts = HomeFacts()
    try:
        tok = _tokens(credential, (cloud.graph_scope, cloud.arm_scope))
    except Exception as e:
        facts.notes.append(f"the home credential got no token: {first_line(e)}")
        return facts
    verify = ssl_verify(cloud)
    with httpx.Client(verify=verify, timeout=60) as http:

        def graph(path: str) -> httpx.Response:
            return http.get(
                f"{cloud.graph_v1}/{path}",
                headers={"Authorization": f"Bearer {tok[cloud.graph_scope]}"},
            )

        def arm(path: str, api: str) -> httpx.Response:
            return http.get(
                f"{cloud.arm}{path}",
                params={"api-version": api},
                headers={"Authorization": f"Bearer {tok[cloud.arm_scope]}"},
            )

        for app in apps:
            given = app_ids.get(app.key) or app.adopt_app_id
            path = (
                f"applications(appId='{quote(given)}')"
                if given
                else f"applications(uniqueName='{quote(app.unique_name)}')"
            )
            r = graph(f"{path}?$select=id,appId,displayName")
            if r.status_code == 200:
                doc = r.json()
                facts.app_ids[app.key] = doc["appId"]
                facts.app_names[app.key] = doc.get("displayName") or app.display_name
                facts.app_in_home[app.key] = True
                f = graph(f"applications/{doc['id']}/federatedIdentityCredentials")
                items = f.json().get("value", []) if f.status_code == 200 else []
                while f.status_code == 200 and f.json().get("@odata.nextLink"):
                    # every page (learn.microsoft.com/graph/paging)
                    f = http.get(
                        f.json()["@odata.nextLink"],
                        headers={"Authorization": f"Bearer {tok[cloud.graph_scope]}"},
                    )
                    items += f.json().get("value", []) if f.status_code == 200 else []
                if f.status_code == 200:
                    facts.fics[app.key] = [
                        {k: x.get(k) for k in ("name", "issuer", "subject", "audiences")}
                        for x in items
                    ]
                else:
                    facts.notes.append(
                        f"app {app.key}: federated credentials not readable (HTTP {f.status_code})"
                    )
            elif r.status_code == 404:
                facts.app_in_home[app.key] = False
                if given:
                    facts.app_ids[app.key] = given
                facts.notes.append(
                    f"app {app.key}: "
                    + (
                        f"appId {given} is not registered in the home tenant"
                        if given
                        else f"no app with uniqueName {app.unique_name} in the home tenant "
                        "(run xtenant apply)"
                    )
                )
            else:
                facts.notes.append(
                    f"app {app.key}: not readable through Graph (HTTP {r.status_code})"
                )
        sub = config.home.subscription_id
        for ident in identities:
            rid = (
                f"/subscriptions/{sub}/resourceGroups/{ident.resource_group}/providers/"
                f"Microsoft.ManagedIdentity/userAssignedIdentities/{ident.name}"
            )
            r = arm(rid, IDENTITY_API)
            if r.status_code != 200:
                facts.notes.append(
                    f"identity {ident.name}: not readable in ARM (HTTP {r.status_code})"
                )
                continue
            props = r.json().get("properties") or {}
            facts.identities[ident.name] = {
                "client_id": props.get("clientId", ""),
                "principal_id": props.get("principalId", ""),
                "resource_id": r.json().get("id") or rid,
            }
            for host_id in ident.attach_ids:
                api = HOST_APIS.get(host_id.full_type.lower())
                if not api:
                    continue
                h = arm(str(host_id), api)
                if h.status_code != 200:
                    continue
                users = ((h.json().get("identity") or {}).get("userAssignedIdentities")) or {}
                facts.attached[(ident.name, host_id.name.lower())] = rid.lower() in {
                    u.lower() for u in users
                }
    return facts
