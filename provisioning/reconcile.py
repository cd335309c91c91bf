"""Reconcile from CI: the declared customer list is the source of truth.

One run = the home side (plan or apply) + every customer's kit re-rendered where it
changed + the customer-side tasks for customers whose tenant the pipeline manages
(``customer_side: managed``) + a status row per customer. ``--shard I/N`` takes a stable
slice of the customers (by a hash of the name) so a CI matrix can spread thousands of
tenants over N jobs; only shard 1 touches the home side, which all shards share.

Kits are the record of who was onboarded. Offboarding is destructive, so it happens only
when the configuration says so: a customer listed under ``offboard:`` has its kit folder
moved to ``<kits>/.offboarded/`` — from where ``status`` keeps flagging the tenant until its
consent is gone. A kit folder whose customer is merely missing from the configuration (a file
dropped from ``customers_dir``, a line deleted) is reported as undeclared, an error, and
left where it is.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from provisioning.core import clouds
from provisioning.kit.folder import (
    KitFolderError,
    check_folder,
    kit_summary,
    move_tree,
    replace_tree,
    same_tree,
)
from provisioning.kit.landing import LANDING_DIR
from provisioning.kit.model import Kit, build_kit
from provisioning.state import HomeState

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
    kit: str  # current | outdated | missing | written | offboarded | undeclared | unsafe
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
    undeclared: list[CustomerStatus] = field(default_factory=list)  # kits of no customer

    @property
    def has_changes(self) -> bool:
        home = bool(self.home and self.home.get("has_changes"))
        return home or any(
            c.kit in ("missing", "outdated") or c.changes
            for c in (*self.customers, *self.offboarded)
        )

    @property
    def ok(self) -> bool:
        rows = (*self.customers, *self.offboarded, *self.undeclared)
        return not self.errors and not any(c.errors for c in rows)

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
            "undeclared": [asdict(c) for c in self.undeclared],
            "errors": list(self.errors),
        }

    @classmethod
    def from_json(cls, data: Any) -> Report:
        """A report written by ``--report``; ``ValueError`` names the first field that is
        not what ``to_json`` writes (reports come from other jobs: nothing is assumed)."""
        from provisioning.reportfile import checked_report

        data = checked_report(data)
        return cls(
            schema_version=REPORT_SCHEMA_VERSION,
            shard=data.get("shard"),
            plan_only=bool(data.get("plan_only")),
            home=data.get("home"),
            customers=[CustomerStatus(**c) for c in data.get("customers", [])],
            offboarded=[CustomerStatus(**c) for c in data.get("offboarded", [])],
            errors=list(data.get("errors", [])),
            undeclared=[CustomerStatus(**c) for c in data.get("undeclared", [])],
        )


def merge(reports: list[Report]) -> Report:
    """Join the shards' reports into one (customers sorted by name)."""
    home = next((r.home for r in reports if r.home is not None), None)
    seen: dict[str, CustomerStatus] = {}
    for r in reports:
        for c in r.customers:
            seen[c.name] = c
    off: dict[str, CustomerStatus] = {c.name: c for r in reports for c in r.offboarded}
    lost: dict[str, CustomerStatus] = {c.name: c for r in reports for c in r.undeclared}
    return Report(
        REPORT_SCHEMA_VERSION,
        None,
        all(r.plan_only for r in reports),
        home,
        sorted(seen.values(), key=lambda c: c.name),
        sorted(off.values(), key=lambda c: c.name),
        [e for r in reports for e in r.errors],
        sorted(lost.values(), key=lambda c: c.name),
    )


# ---- kits -----------------------------------------------------------------------------


def sync_kits(
    config: Config,
    cloud: clouds.Cloud,
    kits: Path,
    *,
    app_ids: dict[str, str],
    identities: dict[str, dict[str, str]],
    customers: list[Customer],
    write: bool,
) -> tuple[dict[str, str], dict[str, str]]:
    """Render into a scratch folder, compare with ``kits/``, and (if ``write``) replace
    only the customers whose kit changed. Returns customer -> current|missing|outdated|
    written|unsafe, and the problem of each unsafe one (``landing`` for the landing page)."""
    from .kit.render import render_all

    state: dict[str, str] = {}
    problems: dict[str, str] = {}
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
        for name in [*(c.name for c in customers), LANDING_DIR]:
            have, new = kits / name, fresh / name
            try:
                check_folder(have)
                now = (
                    "missing"
                    if not have.exists()
                    else "current"
                    if same_tree(new, have)
                    else "outdated"
                )
                if write and now != "current":
                    replace_tree(new, have)
                    now = "written"
            except KitFolderError as exc:
                now, problems[name] = "unsafe", str(exc)
            state[name] = now
    state.pop(LANDING_DIR)
    return state, problems


def kit_folders(kits: Path, errors: list[str]) -> list[tuple[str, Path, bool]]:
    """``(name, folder, already offboarded)`` of every kit folder: ``<kits>/<name>/`` holding
    a ``kit.json`` (or a link), and those in ``<kits>/.offboarded/``."""
    out = []
    for base, done in ((kits, False), (kits / OFFBOARDED, True)):
        try:
            check_folder(base)
        except KitFolderError as exc:
            errors.append(str(exc))
            continue
        if not base.is_dir():
            continue
        for d in sorted(base.iterdir()):
            if d.name.startswith(".") or d.name == LANDING_DIR:
                continue
            if d.is_symlink() or (d.is_dir() and os.path.lexists(d / "kit.json")):
                out.append((d.name, d, done))
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
    from provisioning.core.engine import Options, home_apply, home_plan, home_state

    config = loaded.config
    errors: list[str] = []
    opts = Options(prune=prune, concurrency=concurrency, progress=progress)
    owns_home = shard is None or shard[0] == 1
    home: dict[str, Any] | None = None
    state: HomeState | None = None
    if owns_home:
        outcome = home_plan(loaded, cloud, opts) if plan_only else home_apply(loaded, cloud, opts)
        home = (
            outcome.plan.to_json()
            if plan_only
            else {**outcome.plan.to_json(), "applied": [c.to_json() for c in outcome.applied]}
        )
        errors += [f"{f.address}: {f.message}" for f in outcome.failures]
        state = outcome.home  # the home run just observed everything: no second look
    if state is None:
        state = home_state(loaded, cloud)
        errors += list(state.problems)
    chosen = [c for c in config.customers if in_shard(c.name, shard)]
    missing_apps = sorted({c.app for c in chosen} - set(state.apps))
    rows: list[CustomerStatus] = []
    kit_state: dict[str, str] = {}
    if missing_apps and not plan_only:
        errors.append(f"app(s) {', '.join(missing_apps)} do not exist in the home tenant")
    ready = [c for c in chosen if c.app in state.apps]
    identities = state.identity_ids()
    kit_problems: dict[str, str] = {}
    if ready:
        kit_state, kit_problems = sync_kits(
            config,
            cloud,
            kits,
            app_ids=state.app_ids(),
            identities=identities,
            customers=ready,
            write=not plan_only,
        )
    if LANDING_DIR in kit_problems:
        errors.append(kit_problems[LANDING_DIR])
    for c in chosen:
        rows.append(
            CustomerStatus(
                name=c.name,
                tenant=c.tenant,
                app=c.app,
                side=c.customer_side,
                kit=kit_state.get(c.name, "missing"),
                errors=[kit_problems[c.name]] if c.name in kit_problems else [],
            )
        )
    managed = [r for r in rows if r.side == "managed" and r.app in state.apps]
    if managed:
        # The customer side is planned from the kit built now, in memory, from the
        # configuration under review: never from a kit file on disk, which may be older.
        kits_now = {
            c.name: build_kit(
                config,
                cloud,
                c.name,
                app_id=state.apps[c.app].app_id,
                home_identities=identities,
            )
            for c in chosen
            if c.customer_side == "managed" and c.app in state.apps
        }
        asyncio.run(
            _managed(config, cloud, kits_now, managed, plan_only=plan_only, concurrency=concurrency)
        )
    offboarded, undeclared = _offboard(config, kits, shard, errors, write=not plan_only)
    for r in (*rows, *offboarded, *undeclared):
        r.next = r.decide_next()
    return Report(
        REPORT_SCHEMA_VERSION,
        f"{shard[0]}/{shard[1]}" if shard else None,
        plan_only,
        home,
        rows,
        offboarded,
        errors,
        undeclared,
    )


def _offboard(
    config: Config, kits: Path, shard: tuple[int, int] | None, errors: list[str], *, write: bool
) -> tuple[list[CustomerStatus], list[CustomerStatus]]:
    """Kit folders of customers no longer declared: those listed under ``offboard:`` are
    moved to ``.offboarded/`` (when ``write``); the others are reported, and left alone."""
    declared = {c.name.casefold() for c in config.customers}
    leaving = {n.casefold() for n in config.offboard}
    offboarded: list[CustomerStatus] = []
    undeclared: list[CustomerStatus] = []
    for name, folder, done in kit_folders(kits, errors):
        if name.casefold() in declared or not in_shard(name, shard):
            continue
        listed = done or name.casefold() in leaving
        row = CustomerStatus(
            name=name,
            tenant="?",
            app="?",
            side="customer",
            kit="offboarded" if listed else "undeclared",
        )
        try:
            row.tenant, row.app = kit_summary(folder)
            if not listed:
                row.errors.append(
                    f"{folder} is the kit of no declared customer: declare '{name}' again, or "
                    "list it under offboard: to offboard it (nothing is moved until then)"
                )
            elif write and not done:
                move_tree(folder, kits / OFFBOARDED / name)
        except KitFolderError as exc:
            row.errors.append(str(exc))
        (offboarded if listed else undeclared).append(row)
    return offboarded, undeclared


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
    from provisioning.core.clients import Clients, Http, TenantCredential, admin_credential
    from provisioning.core.engine import run_customer
    from provisioning.core.errors import XtenantError
    from provisioning.core.tokens import SharedTokens

    http = Http(cloud)  # one pool and one TLS context for every tenant of the run
    # one token per tenant and resource, however many clients ask at once
    base = SharedTokens(admin_credential(cloud, config.home.tenant_id, http=http))
    sem = asyncio.Semaphore(concurrency)

    async def one(row: CustomerStatus) -> None:
        async with sem:
            kit = kits[row.name]
            clients = Clients(cloud, TenantCredential(base, kit.customer.tenant), http=http)
            try:
                out = await run_customer(
                    kit, clients, write=not plan_only, pinned=True, concurrency=4
                )
                row.changes = [c.to_json() for c in out.plan.pending]  # after apply: what is left
                row.applied = [c.to_json() for c in out.applied]
                row.errors += [f"{f.address}: {f.message}" for f in out.failures]
                seen = out.customer
                row.consent = "yes" if seen is not None and seen.consented else "no"
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
