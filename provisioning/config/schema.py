"""The JSON Schema of ``xtenant.yaml``, generated from the models (``xtenant schema``)."""

from __future__ import annotations

from typing import Any

from provisioning.config.model import Config


def json_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of the configuration file, for editors and ``xtenant schema``."""
    schema = Config.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "xtenant configuration",
        "description": "Secret-less cross-tenant identity chains (xtenant.yaml).",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }
