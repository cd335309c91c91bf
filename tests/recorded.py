"""Replaying recorded real Azure traffic (``tests/recordings``) against a sandbox.

A recording is the az CLI's own test recording of real ARM / Microsoft Graph traffic, condensed
to what is compared (see ``tests/recordings/README.md`` for the sources and the format). Each
interaction is sent to the sandbox with the recorded method, path and body, with three things
substituted: the hosts (the sandbox's ARM and Graph), the recorded subscription and tenant (a
seeded tenant's), and every id the service minted (a principal id, an operation id, an object
id) once the sandbox has answered with its own. Then the answers are compared:

* the status code;
* the error code, when the recorded answer is an error;
* the keys the recorded body carries (recursively; the items of a list are compared as a set
  of keys; values are not compared: they are the tenant's data). ``tags`` is user data and
  keyed maps (``userAssignedIdentities``) are compared by their values' keys;
* the long-running-operation and creation headers the recorded answer carries
  (``Azure-AsyncOperation``, ``Location``, ``Retry-After``).

What the sandbox cannot replay (a call to another service, an API it does not model) is left
out of the condensed recording with its reason (its ``omitted`` list); what is replayed but
differs in a way that is accepted is listed in ``ACCEPTED`` with why. Everything else that
differs is a failure.
"""

from __future__ import annotations

import json
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from provisioning.sandbox.credentials import admin_credential

RECORDINGS = Path(__file__).resolve().parent / "recordings"
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
RECORDED_SUB = "00000000-0000-0000-0000-000000000000"
RECORDED_TENANTS = ("54826b22-38d6-4fb2-bad9-b7b93a3e9c5a", "72f988bf-86f1-41af-91ab-2d7cd011db47")
LRO_HEADERS = ("azure-asyncoperation", "location", "retry-after")
USER_DATA = {"tags"}  # values a caller chose: not the service's shape
KEYED_MAPS = {"userAssignedIdentities"}  # keys are resource ids; values have a shape

# (recording, interaction index or None for any, difference) -> why it is accepted. A difference
# is the string ``compare`` produces; an accepted difference that never occurs fails the test.
INSTANCE_VIEW = (
    "$expand=instanceView: a VM's instance view (power state, VM agent, disks' and boot "
    "diagnostics' status) is not modelled; the sandbox runs no machines"
)
SP_CREATED = (
    "servicePrincipal.createdDateTime: Graph v1.0 answered it in 2022, but Graph's v1.0 schema "
    "does not declare it (msgraph-metadata f54f11b6; only beta does) and the sandbox serves "
    "declared properties only (test_graph_conformance checks that)"
)
ACCEPTED: dict[tuple[str, int | None, str], str] = {
    ("test_vm_msi", 9, "missing key properties.instanceView"): INSTANCE_VIEW,
    ("test_vm_msi", 20, "missing key properties.instanceView"): INSTANCE_VIEW,
    ("test_vm_msi", 30, "missing key properties.instanceView"): INSTANCE_VIEW,
    ("test_vm_explicit_msi", 12, "missing key properties.instanceView"): INSTANCE_VIEW,
    ("test_vm_explicit_msi", 23, "missing key properties.instanceView"): INSTANCE_VIEW,
    ("test_service_principal_scenario", None, "missing key createdDateTime"): SP_CREATED,
    ("test_service_principal_scenario", None, "missing key value[].createdDateTime"): SP_CREATED,
}


def accepted(name: str, index: int, difference: str) -> str | None:
    """Why a difference is accepted (None: it is not)."""
    return ACCEPTED.get((name, index, difference)) or ACCEPTED.get((name, None, difference))


@dataclass
class Outcome:
    name: str
    compared: int = 0
    matched: int = 0
    differences: dict[int, list[str]] = field(default_factory=dict)
    accepted: dict[int, list[str]] = field(default_factory=dict)


def recordings() -> list[str]:
    return sorted(p.stem for p in RECORDINGS.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


# ---- comparing ------------------------------------------------------------------------------------
def _keys(recorded: Any, live: Any, path: str) -> list[str]:
    out: list[str] = []
    if isinstance(recorded, dict):
        if not isinstance(live, dict):
            return [f"{path or '$'}: an object was recorded, got {type(live).__name__}"]
        for k, v in recorded.items():
            if k not in live:
                out.append(f"missing key {path}.{k}" if path else f"missing key {k}")
            elif k in USER_DATA:
                continue
            elif k in KEYED_MAPS and isinstance(v, dict) and isinstance(live[k], dict):
                out += _keys(
                    _merged(list(v.values())), _merged(list(live[k].values())), f"{path}.{k}.*"
                )
            else:
                out += _keys(v, live[k], f"{path}.{k}" if path else k)
    elif isinstance(recorded, list) and recorded and isinstance(recorded[0], dict):
        if isinstance(live, list) and live:
            out += _keys(_merged(recorded), _merged(live), f"{path}[]")
    return out


def _merged(items: list[Any]) -> dict[str, Any]:
    """The union of a list's objects (a key any item carries, with the first value seen)."""
    out: dict[str, Any] = {}
    for item in items:
        if isinstance(item, dict):
            for k, v in item.items():
                out.setdefault(k, v)
    return out


def compare(x: dict[str, Any], status: int, headers: httpx.Headers, body: Any) -> list[str]:
    """What differs between the recorded interaction ``x`` and the sandbox's answer."""
    if status != x["status"]:
        got = _error_code(body)
        return [f"status {status} (recorded {x['status']})" + (f" {got}" if got else "")]
    out = []
    want = _error_code(x["response"])
    if want and _error_code(body) != want:
        out.append(f"error code {_error_code(body)} (recorded {want})")
    elif x["response"] is not None and not want:
        out += _keys(x["response"], body, "")
    for h in LRO_HEADERS:
        if h in x["headers"] and h not in headers:
            out.append(f"missing header {h}")
    return out


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        return code if isinstance(code, str) else None
    return None


# ---- replaying ------------------------------------------------------------------------------------
class Replay:
    """One recording against one sandbox (a fresh one: recordings create what they name)."""

    def __init__(self, sb: Any, tenant: str = "contoso") -> None:
        self.sb = sb
        t = sb.tenant(tenant)
        self.sub, self.tid = t["subscription_id"], t["tenant_id"]
        self.ids: dict[str, str] = {
            RECORDED_SUB: self.sub,
            **dict.fromkeys(RECORDED_TENANTS, self.tid),
        }
        self.cred = admin_credential(sb.info, tenant)
        self.http = httpx.Client(
            verify=ssl.create_default_context(cafile=sb.info["ca_bundle"]), timeout=60
        )

    def close(self) -> None:
        self.http.close()
        self.cred.close()

    # -- substitution -----------------------------------------------------------------------------
    def sub_text(self, text: str) -> str:
        text = text.replace("https://management.azure.com", self.sb.info["arm"])
        text = re.sub(
            r"https://graph\.microsoft\.com/(v1\.0|beta)", self.sb.info["graph"] + "/v1.0", text
        )
        return GUID.sub(lambda m: self.ids.get(m.group(0).lower(), m.group(0)), text)

    def sub_json(self, value: Any) -> Any:
        return None if value is None else json.loads(self.sub_text(json.dumps(value)))

    def learn(self, recorded: Any, live: Any) -> None:
        """Ids the service minted: the recorded one stands for the sandbox's from now on."""
        if isinstance(recorded, dict) and isinstance(live, dict):
            for k, v in recorded.items():
                if k in KEYED_MAPS and isinstance(v, dict) and isinstance(live.get(k), dict):
                    by_key = {self.sub_text(rk).lower(): rv for rk, rv in v.items()}
                    for lk, lv in live[k].items():
                        if lk.lower() in by_key:
                            self.learn(by_key[lk.lower()], lv)
                elif k in live:
                    self.learn(v, live[k])
        elif isinstance(recorded, list) and isinstance(live, list) and len(recorded) == len(live):
            for r, v in zip(recorded, live, strict=True):
                self.learn(r, v)
        elif isinstance(recorded, str) and isinstance(live, str):
            if recorded.startswith(("http", "/")):  # a URL: its path, not its query's tokens
                recorded, live = recorded.split("?", 1)[0], live.split("?", 1)[0]
            rec, got = GUID.findall(recorded), GUID.findall(live)
            if len(rec) == len(got):
                for r, g in zip(rec, got, strict=True):
                    if r.lower() != g.lower() and r.lower() not in self.ids:
                        self.ids[r.lower()] = g

    # -- setup ------------------------------------------------------------------------------------
    def setup(self, step: dict[str, Any], rec: dict[str, Any]) -> None:
        world = self.sb.world
        if "resource_group" in step:  # with the tags the recorded group carried
            rg = step["resource_group"]
            tags = next(
                (
                    x["response"].get("tags")
                    for x in rec["interactions"]
                    if x["method"] == "GET"
                    and x["uri"]
                    .split("?")[0]
                    .lower()
                    .endswith("/resourcegroups/" + rg["name"].lower())
                    and isinstance(x["response"], dict)
                ),
                None,
            )
            world.arm.put_resource_group(self.sub, rg["name"], rg["location"], tags=tags)
        elif "seed_from" in step:  # a resource made by a call not replayed, as recorded
            x = _interaction(rec, step["seed_from"])
            rid = self.sub_text(x["uri"]).split(self.sb.info["arm"], 1)[1].split("?", 1)[0]
            seeded = world.arm.seed_resource(rid, _writable(self.sub_json(x["response"])))
            self.learn(x["response"], seeded)
        elif "service_principal" in step or "graph_app" in step:
            spec = step.get("service_principal") or step["graph_app"]
            app = world.directory.create_app(self.tid, {"displayName": spec["displayName"]})
            self.ids[spec["id"].lower()] = app["id"]
            if spec.get("appId"):
                self.ids[spec["appId"].lower()] = app["appId"]
            if "service_principal" in step:
                sp = world.directory.create_sp(self.tid, {"appId": app["appId"]})
                self.ids[spec["id"].lower()] = sp["id"]
        elif "role_assignment" in step:
            ra = self.sub_json(step["role_assignment"])
            world.arm.put_role_assignment(
                ra["scope"], ra["name"], ra, caller=None, check_principal=False, settled=True
            )
        elif "settings" in step:
            self.sb.settings(**step["settings"])
        elif "fault" in step:
            self.sb.fault(**step["fault"])
        else:
            raise ValueError(f"unknown setup step {step}")

    # -- the replay -------------------------------------------------------------------------------
    def run(self, name: str) -> Outcome:
        rec = load(name)
        out = Outcome(name)
        steps = rec.get("setup") or []
        for step in steps:
            if "at" not in step:
                self.setup(step, rec)
        for x in rec["interactions"]:
            for step in steps:
                if step.get("at") == x["index"]:
                    self.setup(step, rec)
            uri = self.sub_text(x["uri"])
            scope = (
                "https://graph.microsoft.com/.default"
                if uri.startswith(self.sb.info["graph"])
                else "https://management.azure.com/.default"
            )
            token = self.cred.get_token(scope).token
            r = self.http.request(
                x["method"],
                uri,
                json=self.sub_json(x["body"]),
                headers={"Authorization": f"Bearer {token}"},
            )
            body = r.json() if r.content and "json" in r.headers.get("content-type", "") else None
            self.learn(x["response"], body)
            for h in ("azure-asyncoperation", "location"):
                if h in x["headers"] and h in r.headers:
                    self.learn(x["headers"][h], r.headers[h])
            diffs = compare(x, r.status_code, r.headers, body)
            known = [d for d in diffs if accepted(name, x["index"], d)]
            unexplained = [d for d in diffs if d not in known]
            out.compared += 1
            if not unexplained:
                out.matched += 1
            if unexplained:
                out.differences[x["index"]] = unexplained
            if known:
                out.accepted[x["index"]] = known
        return out


def _interaction(rec: dict[str, Any], index: int) -> dict[str, Any]:
    return next(x for x in rec["interactions"] if x["index"] == index)


def _writable(doc: dict[str, Any]) -> dict[str, Any]:
    """A recorded resource as a PUT body (what the service sets itself left out)."""
    body = {k: v for k, v in doc.items() if k not in ("id", "name", "type", "etag", "resources")}
    props = dict(body.get("properties") or {})
    for k in ("provisioningState", "vmId", "instanceView", "timeCreated"):
        props.pop(k, None)
    body["properties"] = props
    ident = body.get("identity")
    if isinstance(ident, dict):
        body["identity"] = {
            "type": ident.get("type"),
            **(
                {"userAssignedIdentities": {k: {} for k in ident["userAssignedIdentities"]}}
                if ident.get("userAssignedIdentities")
                else {}
            ),
        }
    return body
