"""The engine's apply loop, with tasks that count their reads and writes (no server):
what needed nothing is read once; a write whose response carries the object is not read
back; a write whose response was lost is answered by a new look, never repeated blind."""

from __future__ import annotations

import asyncio
from typing import Any

from task_world import context

from provisioning.core.engine import Context, Task, apply, plan, presence
from provisioning.core.plan import Action, Change


class Counted(Task):
    """An object that exists in ``world`` or not; ``settles``: the create's response
    carries it; ``lose``: that many create responses are lost after committing."""

    kind = "thing"

    def __init__(self, world: dict[str, bool], *, settles: bool, lose: int = 0) -> None:
        self.address = "thing[x]"
        self.world, self.settles, self.lose = world, settles, lose
        self.exists = False
        self.reads = self.writes = 0

    async def observe(self, ctx: Context) -> None:
        self.reads += 1
        self.exists = self.world.get("x", False)

    def changes(self, ctx: Context) -> list[Change]:
        return [presence(self.address, self.kind, present=self.exists, create=self._create)]

    async def _create(self) -> None:
        self.writes += 1
        self.world["x"] = True  # committed
        if self.lose:
            self.lose -= 1
            raise ConnectionResetError("response lost")
        if self.settles:
            self.exists = True


def _apply(task: Task) -> Any:
    return asyncio.run(apply(context(), [task]))


def test_nothing_to_do_is_read_once() -> None:
    task = Counted({"x": True}, settles=True)
    out = _apply(task)
    assert out.ok and out.applied == []
    assert [c.action for c in out.plan.changes] == [Action.NOOP]
    assert (task.reads, task.writes) == (1, 0)


def test_a_write_whose_response_carries_the_object_is_not_read_back() -> None:
    task = Counted({}, settles=True)
    out = _apply(task)
    assert out.ok and [c.action for c in out.applied] == [Action.CREATE]
    assert [c.action for c in out.plan.changes] == [Action.NOOP]
    assert (task.reads, task.writes) == (1, 1)


def test_a_write_whose_response_says_nothing_is_read_back() -> None:
    task = Counted({}, settles=False)
    out = _apply(task)
    assert out.ok and [c.action for c in out.plan.changes] == [Action.NOOP]
    assert (task.reads, task.writes) == (2, 1)


def test_a_lost_response_is_answered_by_looking_again_not_by_writing_again() -> None:
    task = Counted({}, settles=True, lose=1)
    out = _apply(task)
    assert out.ok
    assert (task.reads, task.writes) == (2, 1)  # the second look found it committed


def test_plan_reads_and_never_writes() -> None:
    task = Counted({}, settles=True)
    out = asyncio.run(plan(context(), [task]))
    assert [c.action for c in out.plan.pending] == [Action.CREATE]
    assert (task.reads, task.writes) == (1, 0)


def test_presence_shapes() -> None:
    def made() -> None:
        return None

    assert presence("a", "k", present=True).action is Action.NOOP
    assert presence("a", "k", present=False, wanted=False).action is Action.NOOP
    assert presence("a", "k", present=False, create=made).apply is made
    gone = presence("a", "k", present=True, wanted=False, delete=made)
    assert (gone.action, gone.apply) == (Action.DELETE, made)
