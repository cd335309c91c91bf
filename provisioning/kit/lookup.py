"""Where a kit's home ids come from: the rendered kits (on a workload host, which has no
Graph access) or the home tenant itself (when the provider renders the kits)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provisioning.config import Loaded
    from provisioning.core.clouds import Cloud


class HomeNotReady(Exception):
    """The home tenant cannot give what the kits need: reads failed or apps are missing."""

    def __init__(self, problems: list[str], missing: list[str]) -> None:
        self.problems = problems
        self.missing = missing
        apps = "app" if len(missing) == 1 else "apps"
        super().__init__(
            f"{apps} {', '.join(missing)} not found in the home tenant"
            if missing
            else "the home tenant could not be read: " + "; ".join(problems)
        )


def kit_app_ids(kits: Path) -> dict[str, str]:
    """App ids recorded in rendered kits (``KITS/*/kit.json``), by app key."""
    from provisioning.core import bounded

    out: dict[str, str] = {}
    if kits.is_dir():
        for f in sorted(kits.glob("*/kit.json")):
            if f.parent.is_symlink():
                continue  # see kit.folder: nothing below the kits folder is followed
            try:
                app = bounded.load_json(bounded.read_text(f))["home"]["app"]
                out.setdefault(app["key"], app["app_id"])
            except (ValueError, KeyError, TypeError):  # InputError is a ValueError
                continue
    return out


def home_ids(
    loaded: Loaded, cloud: Cloud, customers: list[str] | None = None
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The app ids (by key) and identity ids (by name) the kits of ``customers`` (all when
    None) need, read from the home tenant. Reads only; raises ``HomeNotReady``."""
    from provisioning.core.engine import home_state

    state = home_state(loaded, cloud)
    wanted = {c.app for c in loaded.config.customers if customers is None or c.name in customers}
    missing = sorted(k for k in wanted if k not in state.apps)
    if missing or state.problems:
        raise HomeNotReady(list(state.problems), missing)
    return state.app_ids(), state.identity_ids()
