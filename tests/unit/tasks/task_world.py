"""Facts in, changes out (the pyinfra way): each task's ``changes()`` from a given observed
state, without a server. A test sets what ``observe`` would have recorded (the task's own
``observed`` and the run's ``ctx.seen``) and checks the plan the task derives from it."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from provisioning.config import Config, load_config
from provisioning.core import clouds
from provisioning.core.clients import Clients
from provisioning.core.engine import Context
from provisioning.core.plan import Change
from provisioning.kit.model import Kit, build_kit
from provisioning.state import Observed

REPO = Path(__file__).resolve().parents[3]
HOME_TENANT = "8f3c2a10-4d5e-4f60-9a7b-0c0270500001"
SUB = "8f3c2a10-4d5e-4f60-9a7b-0c0270500a01"
APP_ID = "0a1b2c3d-0000-4000-8000-00000000a001"
M365_APP_ID = "0a1b2c3d-0000-4000-8000-00000000a002"
SP_ID = "0a1b2c3d-0000-4000-8000-0000000d0001"
OLD_SP_ID = "0a1b2c3d-0000-4000-8000-0000000d0002"
VECTOR_PRINCIPAL = "0a1b2c3d-0000-4000-8000-0000000b0001"


class NoCredential:
    """``changes()`` does no I/O: a credential that is never asked."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise AssertionError("changes() must not authenticate")

    async def close(self) -> None:
        pass


@functools.cache
def demo_config() -> Config:
    return load_config(REPO / "examples" / "sandbox.yaml").config


def tenant_wide_demo_config(tmp: Path) -> Config:
    """The demo world with Fabrikam on the tenant-wide Sites.Read.All (no site grants): the
    shape the Graph-permission task tests are about (scoped grants have their own tests)."""
    import re

    text = (REPO / "examples" / "sandbox.yaml").read_text()
    text = re.sub(
        r"graph_app_roles: \[Sites\.Selected\][^\n]*", "graph_app_roles: [Sites.Read.All]", text
    )
    text = re.sub(r"\n    site_permissions:.*?(?=\n  - name: |\Z)", "", text, flags=re.S)
    path = tmp / "tenant-wide.yaml"
    path.write_text(text)
    return load_config(path).config


def context(config: Config | None = None, *, prune: bool = False, tenant: str = "") -> Context:
    cloud = clouds.PUBLIC
    return Context(
        cloud=cloud,
        clients=Clients(cloud, NoCredential()),  # type: ignore[arg-type]
        config=config,
        prune=prune,
        seen=Observed(tenant),
    )


def kit_for(config: Config, customer: str) -> Kit:
    app = config.customer(customer).app
    return build_kit(
        config,
        clouds.PUBLIC,
        customer,
        app_id=APP_ID if app == "logs" else M365_APP_ID,
        home_identities={},
    )


def shape(changes: list[Change]) -> list[tuple[str, str]]:
    """(address, action) of each change, in order."""
    return [(c.address, c.action.value) for c in changes]


def fields(change: Change) -> list[tuple[str, Any, Any]]:
    return [(f.field, f.before, f.after) for f in change.fields]
