"""Pipelines: the CI workflows ``xtenant ci init github|azure-devops`` writes
(``workflows.py``), and the exact rights the pipeline's identities need (``permissions.py``).

    files = render_ci("github", config, config_path="xtenant.yaml", out_dir=Path("."))
    print(format_permissions(pipeline_permissions(config)))
"""

from __future__ import annotations

from .permissions import Permission, format_permissions, pipeline_permissions
from .workflows import (
    APPLY_CONNECTION,
    CI_KINDS,
    OUTPUTS,
    PLAN_CONNECTION,
    CiKind,
    config_path_for,
    config_variables,
    render_ci,
)

__all__ = [
    "APPLY_CONNECTION",
    "CI_KINDS",
    "OUTPUTS",
    "PLAN_CONNECTION",
    "CiKind",
    "Permission",
    "config_path_for",
    "config_variables",
    "format_permissions",
    "pipeline_permissions",
    "render_ci",
]
