"""From a config file to an outcome: load, pick the cloud, authenticate, run the tasks.

The CLI, the demo and tests call these; they hold no rendering and no prompting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioning.config import Loaded, load_config
from provisioning.core import clouds
from provisioning.core.engine import Context, Facts, Outcome

if TYPE_CHECKING:
    from provisioning.kit.model import Kit


@dataclass
class Options:
    prune: bool = False
    concurrency: int = 8
    progress: Callable[[str, str], None] = lambda address, message: None


def resolve_cloud(loaded: Loaded, override: str | None) -> clouds.Cloud:
    """``--cloud`` / ``XTENANT_CLOUD`` win over the config's ``cloud:``."""
    return clouds.resolve(override) if override else loaded.cloud()


async def _run(
    loaded: Loaded, cloud: clouds.Cloud, opts: Options, *, write: bool, revoke: str | None = None
) -> Outcome:
    from provisioning.core import engine
    from provisioning.core.clients import Clients
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
            progress=opts.progress,
        )
        tasks = revoke_tasks(config.app(revoke)) if revoke else home_tasks(config)
        return await (engine.apply(ctx, tasks) if write else engine.plan(ctx, tasks))
    finally:
        await clients.close()


async def _home_sign_in(clients: Any, cloud: clouds.Cloud, tenant_id: str) -> None:
    """Signed in, and to the home tenant: a plan read from another tenant would show
    everything as missing."""
    from provisioning.core.signin import check_tenant, signed_in

    who = await signed_in(clients.credential, cloud, tenant_id)
    check_tenant(who, tenant_id, cloud, what="the configuration's home side")


def home_plan(loaded: Loaded, cloud: clouds.Cloud, opts: Options | None = None) -> Outcome:
    return asyncio.run(_run(loaded, cloud, opts or Options(), write=False))


def home_apply(loaded: Loaded, cloud: clouds.Cloud, opts: Options | None = None) -> Outcome:
    return asyncio.run(_run(loaded, cloud, opts or Options(), write=True))


async def _facts(loaded: Loaded, cloud: clouds.Cloud) -> tuple[Facts, list[str]]:
    from provisioning.core import engine
    from provisioning.core.clients import Clients
    from provisioning.home import home_tasks

    clients = Clients.for_admin(cloud, loaded.config.home.tenant_id)
    try:
        await _home_sign_in(clients, cloud, loaded.config.home.tenant_id)
        ctx = Context(cloud=cloud, clients=clients, config=loaded.config)
        tasks = [t for t in home_tasks(loaded.config) if t.stage == 0]
        out = await engine.plan(ctx, tasks)
        return ctx.facts, [f"{f.address}: {f.message}" for f in out.failures]
    finally:
        await clients.close()


def home_facts(loaded: Loaded, cloud: clouds.Cloud) -> tuple[Facts, list[str]]:
    """The ids the home side has in Azure now (app ids, identity ids). Reads only."""
    return asyncio.run(_facts(loaded, cloud))


def revoke_plan(
    loaded: Loaded, cloud: clouds.Cloud, app_key: str, opts: Options | None = None
) -> Outcome:
    return asyncio.run(_run(loaded, cloud, opts or Options(), write=False, revoke=app_key))


def revoke_apply(
    loaded: Loaded, cloud: clouds.Cloud, app_key: str, opts: Options | None = None
) -> Outcome:
    return asyncio.run(_run(loaded, cloud, opts or Options(), write=True, revoke=app_key))


def load(path: Path) -> Loaded:
    return load_config(path)


# ---- customer side (run by the customer admin, from a kit) ------------------------------


def load_customer_kit(path: Path, cloud_override: str | None) -> tuple[Kit, clouds.Cloud]:
    """The kit and the cloud to apply it with (xtenant's profile, or the admin's
    ``--cloud``; never the kit's endpoints alone). ``KitError`` names what is wrong."""
    from provisioning.kit.cloud import cloud_for
    from provisioning.kit.model import load_kit

    kit = load_kit(path)
    chosen = clouds.resolve(cloud_override) if cloud_override else None
    return kit, cloud_for(kit, chosen, source=str(path))


async def _run_customer(
    kit: Kit, cloud: clouds.Cloud, opts: Options, *, write: bool, remove: bool
) -> Outcome:
    from provisioning.core import engine
    from provisioning.core.clients import Clients
    from provisioning.core.signin import signed_in
    from provisioning.customer import customer_tasks, tenant

    clients = Clients.for_admin(cloud)
    try:
        who = await signed_in(clients.credential, cloud, kit.customer.tenant)
        await tenant.establish(clients.graph, kit, who, cloud)
        ctx = Context(
            cloud=cloud, clients=clients, concurrency=opts.concurrency, progress=opts.progress
        )
        tasks = customer_tasks(kit, remove=remove)
        return await (engine.apply(ctx, tasks) if write else engine.plan(ctx, tasks))
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
