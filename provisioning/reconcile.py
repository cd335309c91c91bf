"""Reconcile from CI: the declared customer list is the source of truth.

One run = the home side (plan or apply) + every customer's kit re-rendered where it
changed + the customer-side tasks for customers whose tenant the pipeline manages
(``customer_side: managed``) + a status row per customer. ``--shard I/N`` takes a stable
slice of the customers (by a hash of the name) so a CI matrix can spread thousands of
tenants over N jobs; only shard 1 touches the home side, which all shards share.

Kits are the record of who was onboarded: a customer removed from the configuration
leaves its kit folder behind until reconcile moves it to ``<kits>/.offboarded/`` — from
where ``status`` keeps flagging the tenant until its consent is gone.
"""

from __future__ import annotations

import asyncio
import filecmp
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from provisioning.core import clouds
from provisioning.core.engine import Outcome
from provisioning.kit.model import Kit, build_kit

from .config import Config, Customer, Loaded

REPORT_SCHEMA_VERSION = 1
OFFBOARDED = ".offboarded"


def in_shard(name: str, shard: tuple[int, int] | None) -> bool:
    """Stable assignment of a customer to shard I of N (1-based), by SHA-256 of its name."""
    if shard is None:
        return True
    i, n = shard
    return int(hashlib.sha256(name.casefold().encode()).hexdigest(), 16) % n == i - 1


def parse_shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard: expected I/N such as 2/8, got {text!r}") from None
    if not 1 <= i <= n:
        raise ValueError(f"--shard: I must be between 1 and N, got {text!r}")
    return i, n


@dataclass
class CustomerStatus:
    """One row of status: what is true for this customer and what to do next."""

    name: str
    tenant: str
    app: str
    side: str  # "customer" (their admin acts) or "managed" (this pipeline acts)
    kit: str  # current | outdated | missing | written | offboarded
    consent: str = "unknown"  # yes | no | unknown
    roles: str = "unknown"  # ok | missing: ... | propagating: ... (status --live) | unknown
    verified_at: str | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)  # customer-side plan (pending)
    applied: list[dict[str, Any]] = field(default_factory=list)  # customer-side changes made
    errors: list[str] = field(default_factory=list)
    next: str = ""

    def decide_next(self) -> str:
        if self.errors:
            return "fix: " + self.errors[0]
        if self.kit == "offboarded":
            return (
                "healthy (offboarded)"
                if self.consent == "no"
                else "ask the customer to delete the enterprise app (offboarding)"
            )
        if self.changes:
            return "apply the customer-side changes (reconcile --yes)"
        if self.kit in ("missing", "outdated") and self.side != "managed":
            return "render and send the kit" if self.kit == "missing" else "send the updated kit"
        if self.consent == "no":
            return "send kit: waiting for admin consent"
        if self.roles.startswith("missing"):
            return "ask for " + self.roles[len("missing: ") :]
        if self.roles.startswith("propagating"):
            return "wait: granted, not honoured yet (" + self.roles[len("propagating: ") :] + ")"
        if self.consent == "yes" and self.roles in ("ok", "n/a"):
            return "healthy"
        return "verify: run `xtenant status --live` on a host with the identity"


@dataclass
class Report:
    schema_version: int
    shard: str | None
    plan_only: bool
    home: dict[str, Any] | None  # the home plan (JSON form), None when another shard owns it
    customers: list[CustomerStatus]
    offboarded: list[CustomerStatus]
    errors: list[str]

    @property
    def has_changes(self) -> bool:
        home = bool(self.home and self.home.get("has_changes"))
        return home or any(
            c.kit in ("missing", "outdated") or c.changes
            for c in (*self.customers, *self.offboarded)
        )

    @property
    def ok(self) -> bool:
        return not self.errors and not any(c.errors for c in self.customers)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "shard": self.shard,
            "plan_only": self.plan_only,
            "has_changes": self.has_changes,
            "ok": self.ok,
            "home": self.home,
            "customers": [asdict(c) for c in self.customers],
            "offboarded": [asdict(c) for c in self.offboarded],
            "errors": list(self.errors),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        if data.get("schema_version") != REPORT_SCHEMA_VERSION:
            raise ValueError(f"unsupported report schema_version {data.get('schema_version')!r}")
        return cls(
            schema_version=REPORT_SCHEMA_VERSION,
            shard=data.get("shard"),
            plan_only=bool(data.get("plan_only")),
            home=data.get("home"),
            customers=[CustomerStatus(**c) for c in data.get("customers", [])],
            offboarded=[CustomerStatus(**c) for c in data.get("offboarded", [])],
            errors=list(data.get("errors", [])),
        )


def merge(reports: list[Report]) -> Report:
    """Join the shards' reports into one (customers sorted by name)."""
    home = next((r.home for r in reports if r.home is not None), None)
    seen: dict[str, CustomerStatus] = {}
    for r in reports:
        for c in r.customers:
            seen[c.name] = c
    off: dict[str, CustomerStatus] = {c.name: c for r in reports for c in r.offboarded}
    return Report(
        REPORT_SCHEMA_VERSION,
        None,
        all(r.plan_only for r in reports),
        home,
        sorted(seen.values(), key=lambda c: c.name),
        sorted(off.values(), key=lambda c: c.name),
        [e for r in reports for e in r.errors],
    )


# ---- kits -----------------------------------------------------------------------------


def _same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(_same_tree(a / d, b / d) for d in cmp.common_dirs)


def sync_kits(
    config: Config,
    cloud: clouds.Cloud,
    kits: Path,
    *,
    app_ids: dict[str, str],
    identities: dict[str, dict[str, str]],
    customers: list[Customer],
    write: bool,
) -> dict[str, str]:
    """Render into a scratch folder, compare with ``kits/``, and (if ``write``) replace
    only the customers whose kit changed. Returns customer -> current|missing|outdated|written."""
    from .kit.render import render_all

    state: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch)
        render_all(
            config,
            cloud,
            fresh,
            app_ids=app_ids,
            identities=identities,
            customers=[c.name for c in customers],
        )
        for c in customers:
            have, new = kits / c.name, fresh / c.name
            state[c.name] = (
                "missing"
                if not have.exists()
                else "current"
                if _same_tree(new, have)
                else "outdated"
            )
            if write and state[c.name] != "current":
                if have.exists():
                    shutil.rmtree(have)
                shutil.copytree(new, have)
                state[c.name] = "written"
        landing_new, landing = fresh / "landing", kits / "landing"
        if write and (not landing.exists() or not _same_tree(landing_new, landing)):
            if landing.exists():
                shutil.rmtree(landing)
            shutil.copytree(landing_new, landing)
    return state


def stale_kits(config: Config, kits: Path) -> list[tuple[str, dict[str, Any]]]:
    """Kit folders (and tombstones) of customers no longer declared: (name, kit.json)."""
    declared = {c.name.casefold() for c in config.customers}
    out = []
    for base in (kits, kits / OFFBOARDED):
        if not base.is_dir():
            continue
        for d in sorted(base.iterdir()):
            f = d / "kit.json"
            if d.name.casefold() not in declared and f.exists():
                out.append((d.name, json.loads(f.read_text())))
    return out


# ---- the run ---------------------------------------------------------------------------


ProgressFn = Callable[[str, str], None]


def reconcile(
    loaded: Loaded,
    cloud: clouds.Cloud,
    *,
    kits: Path,
    plan_only: bool,
    shard: tuple[int, int] | None = None,
    concurrency: int = 8,
    prune: bool = False,
    progress: ProgressFn = lambda a, m: None,
) -> Report:
    from provisioning.core.runner import Options, home_apply, home_facts, home_plan

    config = loaded.config
    errors: list[str] = []
    opts = Options(prune=prune, concurrency=concurrency, progress=progress)
    owns_home = shard is None or shard[0] == 1
    home: dict[str, Any] | None = None
    if owns_home:
        outcome: Outcome = (
            home_plan(loaded, cloud, opts) if plan_only else home_apply(loaded, cloud, opts)
        )
        home = (
            outcome.plan.to_json()
            if plan_only
            else {**outcome.plan.to_json(), "applied": [c.to_json() for c in outcome.applied]}
        )
        errors += [f"{f.address}: {f.message}" for f in outcome.failures]
    if owns_home and outcome.facts is not None:
        facts = outcome.facts  # the home run just observed everything: no second look
    else:
        facts, problems = home_facts(loaded, cloud)
        errors += problems
    chosen = [c for c in config.customers if in_shard(c.name, shard)]
    missing_apps = sorted({c.app for c in chosen} - set(facts.apps))
    rows: list[CustomerStatus] = []
    kit_state: dict[str, str] = {}
    if missing_apps and not plan_only:
        errors.append(f"app(s) {', '.join(missing_apps)} do not exist in the home tenant")
    ready = [c for c in chosen if c.app in facts.apps]
    if ready:
        kit_state = sync_kits(
            config,
            cloud,
            kits,
            app_ids={k: v["app_id"] for k, v in facts.apps.items()},
            identities=facts.identities,
            customers=ready,
            write=not plan_only,
        )
    for c in chosen:
        rows.append(
            CustomerStatus(
                name=c.name,
                tenant=c.tenant,
                app=c.app,
                side=c.customer_side,
                kit=kit_state.get(c.name, "missing"),
            )
        )
    managed = [r for r in rows if r.side == "managed" and r.app in facts.apps]
    if managed:
        # The customer side is planned from the kit built now, in memory, from the
        # configuration under review: never from a kit file on disk, which may be older.
        kits_now = {
            c.name: build_kit(
                config,
                cloud,
                c.name,
                app_id=facts.apps[c.app]["app_id"],
                home_identities=facts.identities,
            )
            for c in chosen
            if c.customer_side == "managed" and c.app in facts.apps
        }
        asyncio.run(
            _managed(config, cloud, kits_now, managed, plan_only=plan_only, concurrency=concurrency)
        )
    offboarded = _offboard(config, kits, shard, write=not plan_only)
    for r in (*rows, *offboarded):
        r.next = r.decide_next()
    return Report(
        REPORT_SCHEMA_VERSION,
        f"{shard[0]}/{shard[1]}" if shard else None,
        plan_only,
        home,
        rows,
        offboarded,
        errors,
    )


def _offboard(
    config: Config, kits: Path, shard: tuple[int, int] | None, *, write: bool
) -> list[CustomerStatus]:
    out = []
    for name, kit in stale_kits(config, kits):
        if not in_shard(name, shard):
            continue
        out.append(
            CustomerStatus(
                name=name,
                tenant=kit["customer"]["tenant"],
                app=kit["home"]["app"]["key"],
                side="customer",
                kit="offboarded",
            )
        )
        src = kits / name
        if write and src.exists():
            dest = kits / OFFBOARDED / name
            if dest.exists():
                shutil.rmtree(dest)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(src), str(dest))
    return out


async def _managed(
    config: Config,
    cloud: clouds.Cloud,
    kits: dict[str, Kit],
    rows: list[CustomerStatus],
    *,
    plan_only: bool,
    concurrency: int,
) -> None:
    """Customer-side tasks where the pipeline holds rights in the customer's tenant."""
    from provisioning.core import engine
    from provisioning.core.clients import Clients, Http, TenantCredential, admin_credential
    from provisioning.core.engine import Context
    from provisioning.core.errors import XtenantError
    from provisioning.core.signin import signed_in
    from provisioning.customer import customer_tasks, tenant

    http = Http(cloud)  # one pool and one TLS context for every tenant of the run
    base = admin_credential(cloud, config.home.tenant_id, http=http)
    sem = asyncio.Semaphore(concurrency)

    async def one(row: CustomerStatus) -> None:
        async with sem:
            kit = kits[row.name]
            clients = Clients(cloud, TenantCredential(base, kit.customer.tenant), http=http)
            try:
                who = await signed_in(clients.credential, cloud, kit.customer.tenant)
                await tenant.establish(clients.graph, kit, who, cloud, pinned=True)
                ctx = Context(cloud=cloud, clients=clients, concurrency=4)
                tasks = customer_tasks(kit)
                out = await (engine.plan(ctx, tasks) if plan_only else engine.apply(ctx, tasks))
                row.changes = [c.to_json() for c in out.plan.pending]  # after apply: what is left
                row.applied = [c.to_json() for c in out.applied]
                row.errors += [f"{f.address}: {f.message}" for f in out.failures]
                row.consent = "yes" if ctx.facts.principals.get(kit.customer.tenant) else "no"
                if not row.errors:
                    row.roles = (
                        "ok"
                        if not out.plan.pending
                        else "missing: " + ", ".join(c.address for c in out.plan.pending)
                    )
            except XtenantError as exc:
                row.errors.append(str(exc))
            finally:
                await clients.close(close_credential=False)

    try:
        await asyncio.gather(*(one(r) for r in rows))
    finally:
        await base.close()
        await http.close()
