"""The customer onboarding kit: what a customer admin receives (and ``kit.json`` reads back).

kit = build_kit(config, cloud, "litware", app_id=app_id, home_identities=identities)
render_kit(kit, Path("out/litware"))
render_all(config, cloud, Path("out"), app_ids={"logs": app_id}, identities=identities)
kit = load_kit("out/litware/kit.json")        # xtenant customer plan|apply --kit
assignment_name(scope, role_id, app_id)       # the customer-side tasks name assignments so
"""

from __future__ import annotations

from .ids import ASSIGNMENT_NAMESPACE, assignment_name, role_definition_id
from .model import (
    KIT_SCHEMA_VERSION,
    SCHEMA_PATH,
    Kit,
    KitApp,
    KitCloud,
    KitCustomer,
    KitError,
    KitGraphRole,
    KitHome,
    KitRole,
    LogsIngestion,
    Workload,
    WorkloadIdentity,
    build_kit,
    kit_from_json,
    kit_json_schema,
    load_kit,
)
from .render import render_all, render_kit, render_landing, templates_dir

__all__ = [
    "ASSIGNMENT_NAMESPACE",
    "KIT_SCHEMA_VERSION",
    "SCHEMA_PATH",
    "Kit",
    "KitApp",
    "KitCloud",
    "KitCustomer",
    "KitError",
    "KitGraphRole",
    "KitHome",
    "KitRole",
    "LogsIngestion",
    "Workload",
    "WorkloadIdentity",
    "assignment_name",
    "build_kit",
    "kit_from_json",
    "kit_json_schema",
    "load_kit",
    "render_all",
    "render_kit",
    "render_landing",
    "role_definition_id",
    "templates_dir",
]
