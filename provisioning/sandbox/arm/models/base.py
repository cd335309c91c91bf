"""What every resource provider's model shares: the world, its store, the sandbox clock,
and the store's collections."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...store import Store
    from ...world import World

SUBS = "arm_subscriptions"
RGS = "arm_resourceGroups"
RES = "arm_resources"
RAS = "arm_roleAssignments"
OPS = "arm_operations"


class ArmModel:
    def __init__(self, world: World) -> None:
        self.world = world
        self.store: Store = world.store

    def _now(self) -> float:
        return self.world.now()
