"""What every resource provider's model shares: the world, its store, the sandbox clock,
and the store's collections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..ids import Doc, Rid

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

    if TYPE_CHECKING:  # what the providers' models use of each other (``Arm`` is their union)

        def tenant_of_subscription(self, sub_id: str) -> str | None: ...
        def resource(self, rid: Rid | str) -> Doc | None: ...
        def _uami_props(
            self, doc: Doc, tid: str, created: bool, api_version: str | None
        ) -> None: ...
        def _apply_identity(self, doc: Doc, tid: str, new: Any, *, patch: bool) -> None: ...
        def _release_identities(self, doc: Doc) -> None: ...
        def _vm_props(self, doc: Doc, existing: Doc | None) -> None: ...
        def _dcr_props(self, doc: Doc, existing: Doc | None) -> None: ...
        def _dce_props(self, doc: Doc, existing: Doc | None, rid: Rid) -> None: ...
        def _render_dce(self, doc: Doc, out: Doc) -> Doc: ...
        def _render_uami(self, doc: Doc, out: Doc, api_version: str | None) -> Doc: ...
        def _delete_assignments_below(self, scope: str) -> None: ...
