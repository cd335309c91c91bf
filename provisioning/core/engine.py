"""Running tasks: observe → changes → plan; apply in dependency order; and the runs the CLI,
the demo and reconcile start (home plan/apply, revoke, a customer's kit).

A task (pyinfra's operation, Terraform's resource) reads the real state in ``observe``
and derives, without I/O, the ``Change`` list that would make it match the declaration.
``plan`` never writes. ``apply`` works stage by stage so later tasks see the ids earlier
ones produced. A task whose observation finds nothing to do is not read again; after its
writes, a task judges from their responses (where they carry the object) and reads again
only when they do not settle it. A change whose response was lost is answered by
observing again, never by blindly repeating a write.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioning.config import Config, Loaded, load_config
from provisioning.core import clouds
from provisioning.core.clients import Clients
from provisioning.core.clouds import Cloud
from provisioning.core.errors import TaskError, describe, is_transport_error
from provisioning.core.plan import Action, Change, FieldChange, Plan, matching, plural
from provisioning.state import CustomerState, HomeState, Observed

if TYPE_CHECKING:
    from provisioning.kit.model import Kit

log = logging.getLogger("xtenant")

UNKNOWN = "(known after apply)"
MAX_CONVERGE_ROUNDS = 4


@dataclass
class Context:
    cloud: Cloud
    clients: Clients
    config: Config | None = None  # the home config; customer-side runs work from a kit
    prune: bool = False
    concurrency: int = 8
    seen: Observed = field(default_factory=Observed)
    progress: Callable[[str, str], None] = lambda address, message: None
    replication_wait_s: float = 180.0  # bound on waiting out directory replication

    @property
    def cfg(self) -> Config:
        if self.config is None:
            raise RuntimeError("this task needs the home configuration")
        return self.config


class Task(ABC):
    """One idempotent unit. Subclasses set ``address``, ``kind`` and ``stage``."""

    address: str
    kind: str
    stage: int = 0  # tasks of stage n may use what stages < n observed

    @abstractmethod
    async def observe(self, ctx: Context) -> None:
        """Read the real state (and record it in ``ctx.seen``). No writes, ever."""

    @abstractmethod
    def changes(self, ctx: Context) -> list[Change]:
        """What would make the observed state match the declaration (pure)."""

    def verified(self, ctx: Context) -> str | None:
        """A one-line statement of what was confirmed after apply (ids, etc.)."""
        return None


# ---- the shapes every task repeats ------------------------------------------------------


def presence(
    address: str,
    kind: str,
    *,
    present: bool,
    wanted: bool = True,
    create: Callable[[], Any] | None = None,
    delete: Callable[[], Any] | None = None,
    fields: Sequence[FieldChange] = (),
    note: str | None = None,
    privileged: str | None = None,
) -> Change:
    """The change that makes an object exist (``wanted``) or not: no-op when it already
    does; ``fields`` are shown as created, or as deleted."""
    if present == wanted:
        return Change(address, kind, Action.NOOP)
    if wanted:
        return Change(
            address, kind, Action.CREATE, list(fields), note, create, privileged=privileged
        )
    return Change(address, kind, Action.DELETE, list(fields), note, delete)


# ---- outcomes ---------------------------------------------------------------------------


@dataclass
class TaskFailure:
    address: str
    message: str


@dataclass
class Outcome:
    plan: Plan
    failures: list[TaskFailure] = field(default_factory=list)
    applied: list[Change] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    seen: Observed | None = None  # what the run observed, for later steps

    @property
    def home(self) -> HomeState | None:
        return self.seen.home() if self.seen is not None else None

    @property
    def customer(self) -> CustomerState | None:
        return self.seen.customer() if self.seen is not None else None

    @property
    def ok(self) -> bool:
        return not self.failures

    def errors_json(self) -> list[dict[str, str]]:
        return [{"address": f.address, "message": f.message} for f in self.failures]

    def plan_json(self) -> dict[str, Any]:
        """``plan -o json``: the plan's documented shape plus what could not be read."""
        return {**self.plan.to_json(), "errors": self.errors_json()}

    def to_json(self) -> dict[str, Any]:
        """``apply -o json``: what was changed and confirmed, and the plan observed after."""
        return {
            "applied": [c.to_json() for c in self.applied],
            "verified": list(self.verified),
            "errors": self.errors_json(),
            "plan": self.plan.to_json(),
        }

    def summary(self) -> str:
        """The sentence that ends a plan. A plan built on a failed read is not "No changes":
        it says how many reads failed and what is known about the rest."""
        if not self.failures:
            return self.plan.summary()
        head = f"Plan incomplete: {plural(len(self.failures), 'error')}"
        if not self.plan.has_changes:
            return f"{head}; what could be read needs no change."
        n = self.plan.counts()
        return (
            f"{head}; what could be read: {n['create']} to create, {n['update']} to update, "
            f"{n['delete']} to delete."
        )

    def applied_summary(self) -> str:
        """The sentence that ends a successful apply."""
        return (
            f"Apply complete: {plural(len(self.applied), 'change')} made; "
            f"{matching(self.plan.counts()['no-op'])}"
        )


# ---- plan and apply ---------------------------------------------------------------------


async def _bounded(sem: asyncio.Semaphore, coro: Awaitable[Any]) -> Any:
    async with sem:
        return await coro


def _stages(tasks: list[Task]) -> list[list[Task]]:
    return [[t for t in tasks if t.stage == s] for s in sorted({t.stage for t in tasks})]


async def _observe(ctx: Context, task: Task, failures: list[TaskFailure]) -> list[Change]:
    log.info("observing %s", task.address)
    ctx.progress(task.address, "observing")
    try:
        await task.observe(ctx)
        return task.changes(ctx)
    except TaskError as e:
        failures.append(TaskFailure(e.address, e.message))
    except Exception as e:  # an SDK error we did not anticipate: still name the task
        log.debug("observe failed", exc_info=True)
        failures.append(TaskFailure(task.address, describe(e)))
    return []


async def plan(ctx: Context, tasks: list[Task]) -> Outcome:
    """Observe every task concurrently and collect their changes. Writes nothing."""
    sem = asyncio.Semaphore(ctx.concurrency)
    failures: list[TaskFailure] = []
    p = Plan()
    for batch in _stages(tasks):  # later stages read earlier stages' observations
        if failures:
            break  # a later stage planned on a failed read would be a plan on guesses
        results = await asyncio.gather(*(_bounded(sem, _observe(ctx, t, failures)) for t in batch))
        for changes in results:
            p.extend(changes)
    return Outcome(plan=p, failures=failures, seen=ctx.seen)


def _pending(changes: list[Change]) -> list[Change]:
    return [c for c in changes if c.action is not Action.NOOP]


async def _write(ctx: Context, pending: list[Change], out: Outcome) -> bool | None:
    """Apply ``pending`` in order: True when all were made, False when a response was
    lost (observe again), None when one failed (recorded in ``out``)."""
    for change in pending:
        log.info("applying %s (%s)", change.address, change.action.value)
        ctx.progress(change.address, change.action.value)
        try:
            if change.apply is not None:
                await change.apply()
            out.applied.append(change)
        except TaskError as e:
            out.failures.append(TaskFailure(e.address, e.message))
            return None
        except Exception as e:
            if is_transport_error(e):
                log.info("%s: response lost; observing again", change.address)
                return False
            out.failures.append(TaskFailure(change.address, describe(e)))
            return None
    return True


async def _apply_task(ctx: Context, task: Task, out: Outcome) -> list[Change]:
    """Observe, apply what differs, and repeat until nothing differs; the task's last
    changes (all no-op when it converged) are its part of the plan after apply."""
    changes: list[Change] = []
    for _round in range(MAX_CONVERGE_ROUNDS):
        try:
            await task.observe(ctx)
            changes = task.changes(ctx)
        except TaskError as e:
            out.failures.append(TaskFailure(e.address, e.message))
            return changes
        except Exception as e:
            if is_transport_error(e):
                continue
            out.failures.append(TaskFailure(task.address, describe(e)))
            return changes
        pending = _pending(changes)
        if pending:
            written = await _write(ctx, pending, out)
            if written is None:
                return changes
            if not written:
                continue
            try:  # the writes' responses, where they carry the object, are the new look
                changes = task.changes(ctx)
            except TaskError:
                continue  # the next look says it again, or not
            if _pending(changes):
                continue  # they do not settle it: read again
        note = task.verified(ctx)
        if note:
            out.verified.append(note)
        return changes
    out.failures.append(
        TaskFailure(task.address, f"did not converge after {MAX_CONVERGE_ROUNDS} rounds")
    )
    return changes


async def apply(ctx: Context, tasks: list[Task]) -> Outcome:
    """Apply stage by stage (concurrently within a stage); the plan after apply is each
    task's last look (no second read of what needed nothing)."""
    out = Outcome(plan=Plan(), seen=ctx.seen)
    sem = asyncio.Semaphore(ctx.concurrency)
    for batch in _stages(tasks):
        results = await asyncio.gather(*(_bounded(sem, _apply_task(ctx, t, out)) for t in batch))
        for changes in results:
            out.plan.extend(changes)
        if out.failures:
            break  # later stages depend on this one
    return out


# ---- runs: from a config file (or a kit) to an outcome ------------------------------------


@dataclass
class Options:
    prune: bool = False
    concurrency: int = 8
    progress: Callable[[str, str], None] = lambda address, message: None


def resolve_cloud(loaded: Loaded, override: str | None) -> clouds.Cloud:
    """``--cloud`` / ``XTENANT_CLOUD`` win over the config's ``cloud:``."""
    return clouds.resolve(override) if override else loaded.cloud()


def load(path: Path) -> Loaded:
    return load_config(path)


async def _home_sign_in(clients: Clients, cloud: clouds.Cloud, tenant_id: str) -> None:
    """Signed in, and to the home tenant: a plan read from another tenant would show
    everything as missing. The ARM token taken here is the one the ARM clients reuse."""
    from provisioning.core.signin import check_tenant, signed_in

    who = await signed_in(clients.credential, cloud, tenant_id)
    check_tenant(who, tenant_id, cloud, what="the configuration's home side")


async def _run(
    loaded: Loaded, cloud: clouds.Cloud, opts: Options, *, write: bool, revoke: str | None = None
) -> Outcome:
    from provisioning.home import home_tasks
    from provisioning.home.revoke import revoke_tasks

    config = loaded.config
    clients = Clients.for_admin(cloud, config.home.tenant_id)
    try:
        await _home_sign_in(clients, cloud, config.home.tenant_id)
        ctx = Context(
            config=config,
            cloud=cloud,
            clients=clients,
            prune=opts.prune,
            concurrency=opts.concurrency,
            seen=Observed(config.home.tenant_id),
            progress=opts.progress,
        )
        tasks = revoke_tasks(config.app(revoke)) if revoke else home_tasks(config)
        return await (apply(ctx, tasks) if write else plan(ctx, tasks))
    finally:
        await clients.close()


def home_plan(loaded: Loaded, cloud: clouds.Cloud, opts: Options | None = None) -> Outcome:
    return asyncio.run(_run(loaded, cloud, opts or Options(), write=False))


def home_apply(loaded: Loaded, cloud: clouds.Cloud, opts: Options | None = None) -> Outcome:
    return asyncio.run(_run(loaded, cloud, opts or Options(), write=True))


def revoke_plan(
    loaded: Loaded, cloud: clouds.Cloud, app_key: str, opts: Options | None = None
) -> Outcome:
    return asyncio.run(_run(loaded, cloud, opts or Options(), write=False, revoke=app_key))


def revoke_apply(
    loaded: Loaded, cloud: clouds.Cloud, app_key: str, opts: Options | None = None
) -> Outcome:
    return asyncio.run(_run(loaded, cloud, opts or Options(), write=True, revoke=app_key))


async def _home_state(loaded: Loaded, cloud: clouds.Cloud) -> HomeState:
    from provisioning.state import read_home

    clients = Clients.for_admin(cloud, loaded.config.home.tenant_id)
    try:
        await _home_sign_in(clients, cloud, loaded.config.home.tenant_id)
        return await read_home(clients, loaded.config)
    finally:
        await clients.close()


def home_state(loaded: Loaded, cloud: clouds.Cloud) -> HomeState:
    """The home apps and identities as they are in Azure now (app ids, identity ids), read
    once; what could not be read is in ``problems``. Reads only."""
    return asyncio.run(_home_state(loaded, cloud))


# ---- customer side (run by the customer admin, from a kit) ------------------------------


def load_customer_kit(path: Path, cloud_override: str | None) -> tuple[Kit, clouds.Cloud]:
    """The kit and the cloud to apply it with (xtenant's profile, or the admin's
    ``--cloud``; never the kit's endpoints alone). ``KitError`` names what is wrong."""
    from provisioning.kit.cloud import cloud_for
    from provisioning.kit.model import load_kit

    kit = load_kit(path)
    chosen = clouds.resolve(cloud_override) if cloud_override else None
    return kit, cloud_for(kit, chosen, source=str(path))


async def run_customer(
    kit: Kit,
    clients: Clients,
    *,
    write: bool,
    remove: bool = False,
    pinned: bool = False,
    concurrency: int = 8,
    progress: Callable[[str, str], None] = lambda address, message: None,
) -> Outcome:
    """The kit's tasks in its tenant, once the signed-in tenant is known to be the kit's
    (``pinned``: the credential asked Entra for exactly that tenant)."""
    from provisioning.core.signin import signed_in
    from provisioning.customer import customer_tasks, tenant

    cloud = clients.cloud
    who = await signed_in(clients.credential, cloud, kit.customer.tenant)
    await tenant.establish(clients, kit, who, cloud, pinned=pinned)
    ctx = Context(
        cloud=cloud,
        clients=clients,
        concurrency=concurrency,
        seen=Observed(kit.customer.tenant),
        progress=progress,
    )
    tasks = customer_tasks(kit, remove=remove)
    return await (apply(ctx, tasks) if write else plan(ctx, tasks))


async def _run_customer(
    kit: Kit, cloud: clouds.Cloud, opts: Options, *, write: bool, remove: bool
) -> Outcome:
    clients = Clients.for_admin(cloud)
    try:
        return await run_customer(
            kit,
            clients,
            write=write,
            remove=remove,
            concurrency=opts.concurrency,
            progress=opts.progress,
        )
    finally:
        await clients.close()


def customer_plan(
    kit: Kit, cloud: clouds.Cloud, opts: Options | None = None, *, remove: bool = False
) -> Outcome:
    return asyncio.run(_run_customer(kit, cloud, opts or Options(), write=False, remove=remove))


def customer_apply(
    kit: Kit, cloud: clouds.Cloud, opts: Options | None = None, *, remove: bool = False
) -> Outcome:
    return asyncio.run(_run_customer(kit, cloud, opts or Options(), write=True, remove=remove))
