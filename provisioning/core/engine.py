"""Running tasks: observe → changes → plan; apply in dependency order → observe again.

A task (pyinfra's operation, Terraform's resource) reads the real state in ``observe``
and derives, without I/O, the ``Change`` list that would make it match the declaration.
``plan`` never writes. ``apply`` works stage by stage so later tasks see the ids earlier
ones produced, retries a change whose response was lost by observing again (never by
blindly repeating a write), and ends by observing everything once more.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from provisioning.config import Config
from provisioning.core.clients import Clients
from provisioning.core.clouds import Cloud
from provisioning.core.errors import TaskError, is_transport_error
from provisioning.core.plan import Action, Change, Plan, matching, plural

log = logging.getLogger("xtenant")

UNKNOWN = "(known after apply)"
MAX_CONVERGE_ROUNDS = 4


@dataclass
class Facts:
    """Values tasks learn and later tasks need (principal ids, app ids, object ids)."""

    identities: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> ids
    apps: dict[str, dict[str, str]] = field(default_factory=dict)  # key -> object_id/app_id
    principals: dict[str, str] = field(default_factory=dict)  # tenant -> our SP's object id
    graph_sp: dict[str, dict[str, object]] = field(default_factory=dict)  # tenant -> Graph SP


@dataclass
class Context:
    cloud: Cloud
    clients: Clients
    config: Config | None = None  # the home config; customer-side runs work from a kit
    prune: bool = False
    concurrency: int = 8
    facts: Facts = field(default_factory=Facts)
    progress: Callable[[str, str], None] = lambda address, message: None
    applying: bool = False
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
    stage: int = 0  # tasks of stage n may use facts from stages < n

    @abstractmethod
    async def observe(self, ctx: Context) -> None:
        """Read the real state (and record facts). No writes, ever."""

    @abstractmethod
    def changes(self, ctx: Context) -> list[Change]:
        """What would make the observed state match the declaration (pure)."""

    def verified(self, ctx: Context) -> str | None:
        """A one-line statement of what was confirmed after apply (ids, etc.)."""
        return None


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
    facts: Facts | None = None  # what the last observation learned (ids), for later steps

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


async def _bounded(sem: asyncio.Semaphore, coro: Awaitable[Any]) -> Any:
    async with sem:
        return await coro


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
        failures.append(TaskFailure(task.address, _describe(e)))
    return []


def _describe(e: BaseException) -> str:
    from provisioning.core.errors import code_of, message_of, status_of

    status, code = status_of(e), code_of(e)
    head = " ".join(str(x) for x in (status, code) if x)
    return f"{head}: {message_of(e)}" if head else f"{type(e).__name__}: {e}"


async def plan(ctx: Context, tasks: list[Task]) -> Outcome:
    """Observe every task concurrently and collect their changes. Writes nothing."""
    sem = asyncio.Semaphore(ctx.concurrency)
    failures: list[TaskFailure] = []
    p = Plan()
    for stage in sorted({t.stage for t in tasks}):  # later stages read earlier stages' facts
        if failures:
            break  # a later stage planned on a failed read would be a plan on guesses
        batch = [t for t in tasks if t.stage == stage]
        results = await asyncio.gather(*(_bounded(sem, _observe(ctx, t, failures)) for t in batch))
        for changes in results:
            p.extend(changes)
    return Outcome(plan=p, failures=failures, facts=ctx.facts)


async def _apply_task(ctx: Context, task: Task, out: Outcome) -> None:
    """Observe, apply what differs, and repeat until nothing differs.

    A lost response (the write may have committed) is answered by observing again, so
    a retried create finds the object instead of making a second one.
    """
    for _round in range(MAX_CONVERGE_ROUNDS):
        try:
            await task.observe(ctx)
            pending = [c for c in task.changes(ctx) if c.action is not Action.NOOP]
        except TaskError as e:
            out.failures.append(TaskFailure(e.address, e.message))
            return
        except Exception as e:
            if is_transport_error(e):
                continue
            out.failures.append(TaskFailure(task.address, _describe(e)))
            return
        if not pending:
            note = task.verified(ctx)
            if note:
                out.verified.append(note)
            return
        for change in pending:
            log.info("applying %s (%s)", change.address, change.action.value)
            ctx.progress(change.address, change.action.value)
            try:
                if change.apply is not None:
                    await change.apply()
                out.applied.append(change)
            except TaskError as e:
                out.failures.append(TaskFailure(e.address, e.message))
                return
            except Exception as e:
                if is_transport_error(e):
                    log.info("%s: response lost; observing again", change.address)
                    break
                out.failures.append(TaskFailure(change.address, _describe(e)))
                return
    out.failures.append(
        TaskFailure(task.address, f"did not converge after {MAX_CONVERGE_ROUNDS} rounds")
    )


async def apply(ctx: Context, tasks: list[Task]) -> Outcome:
    """Apply stage by stage (concurrently within a stage), then observe everything again."""
    ctx.applying = True
    out = Outcome(plan=Plan())
    sem = asyncio.Semaphore(ctx.concurrency)
    for stage in sorted({t.stage for t in tasks}):
        batch = [t for t in tasks if t.stage == stage]
        await asyncio.gather(*(_bounded(sem, _apply_task(ctx, t, out)) for t in batch))
        if out.failures:
            break  # later stages depend on this one
    ctx.applying = False
    final = await plan(ctx, tasks)
    out.plan = final.plan
    out.facts = final.facts
    out.failures.extend(f for f in final.failures if f not in out.failures)
    return out
