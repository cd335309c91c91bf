"""From a config file to an outcome: load, pick the cloud, authenticate, run the tasks.

The CLI, the demo and tests call these; they hold no rendering and no prompting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from provisioning.config import Loaded, load_config
from provisioning.core import clouds
from provisioning.core.engine import Context, Facts, Outcome
from provisioning.customer.spec import CustomerSpec


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


def load_kit_spec(path: Path) -> tuple[dict, CustomerSpec]:
    from provisioning.kit.model import load_kit

    kit = load_kit(path)
    data = kit.to_json()
    return data, CustomerSpec.from_kit(data)


def kit_cloud(kit: dict, override: str | None) -> clouds.Cloud:
    return (
        clouds.resolve(override) if override else clouds.from_dict(kit["cloud"], source="kit.cloud")
    )


async def _run_customer(
    spec: CustomerSpec, cloud: clouds.Cloud, opts: Options, *, write: bool, remove: bool
) -> Outcome:
    from provisioning.core import engine
    from provisioning.core.clients import Clients
    from provisioning.customer import customer_tasks

    clients = Clients.for_admin(cloud, spec.tenant)
    try:
        ctx = Context(
            cloud=cloud, clients=clients, concurrency=opts.concurrency, progress=opts.progress
        )
        tasks = customer_tasks(spec, remove=remove)
        return await (engine.apply(ctx, tasks) if write else engine.plan(ctx, tasks))
    finally:
        await clients.close()


def customer_plan(
    spec: CustomerSpec, cloud: clouds.Cloud, opts: Options | None = None, *, remove: bool = False
) -> Outcome:
    return asyncio.run(_run_customer(spec, cloud, opts or Options(), write=False, remove=remove))


def customer_apply(
    spec: CustomerSpec, cloud: clouds.Cloud, opts: Options | None = None, *, remove: bool = False
) -> Outcome:
    return asyncio.run(_run_customer(spec, cloud, opts or Options(), write=True, remove=remove))
