"""The runs the CLI, the demo and tests start now live in ``core/engine.py``; these names
stay importable from here."""

from __future__ import annotations

from provisioning.core.engine import (
    Options,
    customer_apply,
    customer_plan,
    home_apply,
    home_plan,
    home_state,
    load,
    load_customer_kit,
    resolve_cloud,
    revoke_apply,
    revoke_plan,
    run_customer,
)

__all__ = [
    "Options",
    "customer_apply",
    "customer_plan",
    "home_apply",
    "home_plan",
    "home_state",
    "load",
    "load_customer_kit",
    "resolve_cloud",
    "revoke_apply",
    "revoke_plan",
    "run_customer",
]
