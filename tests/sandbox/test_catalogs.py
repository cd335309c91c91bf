"""The sandbox keeps its own copy of the product's role catalogs (it imports nothing from the
product): ARM's built-in roles it enforces RBAC with, Microsoft Graph's app roles its
first-party service principal publishes, and the Microsoft Entra built-in roles its
``roleManagement/directory`` serves. The copies must not drift from the product's."""

from __future__ import annotations

from importlib import resources

import pytest

# sandbox copy -> the product's catalog it copies
COPIES = {
    "builtin_roles.json": "azure_roles.json",
    "graph_app_roles.json": "graph_app_roles.json",
    "entra_roles.json": "entra_roles.json",
}


@pytest.mark.parametrize("copy", sorted(COPIES))
def test_sandbox_catalog_is_the_products(copy: str) -> None:
    ours = resources.files("provisioning.sandbox").joinpath("data", copy).read_bytes()
    source = COPIES[copy]
    theirs = resources.files("provisioning.core.catalog").joinpath(source).read_bytes()
    assert ours == theirs, (
        f"provisioning/sandbox/data/{copy} differs from provisioning/core/catalog/{source}: "
        "copy the product's file over the sandbox's"
    )
