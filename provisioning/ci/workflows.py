"""The CI workflows ``xtenant ci init github|azure-devops`` writes: plan on pull requests,
apply on the main branch behind an approval, a nightly status.

    files = render_ci("github", config, config_path="xtenant.yaml", out_dir=Path("."))

The rights the pipeline's two identities need are computed in ``permissions.py``.  Both
authenticate without a secret: the CI's OIDC token is written to a file named by
``AZURE_FEDERATED_TOKEN_FILE`` (with ``AZURE_CLIENT_ID`` and ``AZURE_TENANT_ID``), which
azure-identity's ``DefaultAzureCredential`` picks up as ``WorkloadIdentityCredential``;
the workflows refresh that file in the background because GitHub's ID tokens live five
minutes and Azure DevOps' ten (see ``docs/ci.md``).

The templates go through the kit's templating (``provisioning.kit.templating``), with the
YAML delimiters.  Rendering is deterministic: no clock, no randomness; the same
configuration and options give byte-identical files.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from provisioning.config import Config
from provisioning.core import clouds
from provisioning.kit.templating import render_yaml, write_file

from .permissions import format_permissions, pipeline_permissions

__all__ = [
    "CI_KINDS",
    "OUTPUTS",
    "CiKind",
    "config_path_for",
    "config_variables",
    "format_permissions",
    "pipeline_permissions",
    "render_ci",
]
"""``format_permissions`` and ``pipeline_permissions`` live in ``permissions.py``; the CLI
imports them from here too."""

CiKind = Literal["github", "azure-devops"]
CI_KINDS: tuple[str, ...] = ("github", "azure-devops")

OUTPUTS: dict[str, str] = {
    "github": ".github/workflows/xtenant.yml",
    "azure-devops": "azure-pipelines.yml",
}
"""Where each kind's file lands, relative to ``out_dir`` (the repository root)."""

TEMPLATES: dict[str, str] = {
    "github": "ci/github/xtenant.yml.j2",
    "azure-devops": "ci/azure-devops/azure-pipelines.yml.j2",
}

PLAN_CONNECTION = "xtenant-plan"
APPLY_CONNECTION = "xtenant-apply"
"""Azure DevOps service connections (workload identity federation) of the two identities."""

SHARD_SIZE = 500
"""Customers per nightly job when ``shards`` is left to ``render_ci`` (500 is a normal day)."""
MAX_SHARDS = 32

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


_SAFE_PATH = re.compile(r"^[A-Za-z0-9._][A-Za-z0-9._/-]*$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
_SAFE_AUDIENCE = re.compile(r"^[A-Za-z0-9:/._-]+$")
_SAFE_INSTALL = re.compile(r"^[A-Za-z0-9._\[\],=<>!~+:/@-]+$")
_CRON = re.compile(r"^[0-9*/,-]+( [0-9*/,-]+){4}$")
_ENV_VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Set by the workflows themselves (the sign-in step) or reserved by GitHub: never mapped.
_RESERVED_ENV = re.compile(
    r"^(AZURE_CLIENT_ID|AZURE_TENANT_ID|AZURE_FEDERATED_TOKEN_FILE|(GITHUB|RUNNER|ACTIONS)_.*)$"
)


def _safe_path(what: str, value: str) -> str:
    text = PurePosixPath(str(value).replace("\\", "/")).as_posix()
    if (
        not _SAFE_PATH.match(text)
        or text.startswith("/")
        or ".." in PurePosixPath(text).parts
        or text.endswith("/")
    ):
        raise ValueError(
            f"{what}: {value!r} must be a path relative to the repository root, inside it, "
            "of letters, digits and . _ - /"
        )
    return text


def config_path_for(config_file: Path, out_dir: Path) -> str:
    """``config_file`` as the pipeline sees it: relative to ``out_dir`` (the repository
    root), in POSIX form; ``ValueError`` if it is not inside it."""
    rel = os.path.relpath(Path(config_file).resolve(), Path(out_dir).resolve())
    return _safe_path("configuration file", PurePosixPath(Path(rel).as_posix()).as_posix())


def _check(what: str, value: str, pattern: re.Pattern[str]) -> str:
    if not pattern.match(value):
        raise ValueError(f"{what}: {value!r} is not allowed here")
    return value


def config_variables(path: Path) -> list[str]:
    """The ``${VAR}`` names a configuration file (and its ``customers_dir`` files) takes
    from the environment, sorted: the workflows pass each from a CI variable."""
    found: set[str] = set()
    path = Path(path)
    doc = _load_yaml(path)
    if doc is None:
        return []
    docs = [doc]
    folder_spec = doc.get("customers_dir") if isinstance(doc, dict) else None
    if isinstance(folder_spec, str) and (path.parent / folder_spec).is_dir():
        folder = path.parent / folder_spec
        for f in sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml")):
            docs.append(_load_yaml(f))
    for d in docs:
        for text in _strings(d):
            found.update(_ENV_VAR.findall(text))
    return sorted(found)


def _load_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError, UnicodeDecodeError):
        return None


def _strings(node: Any) -> Iterable[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)


def _audience(config: Config, config_file: Path | None) -> str:
    spec = config.cloud
    if spec.lower() in clouds.BUILTIN:
        return clouds.resolve(spec.lower()).exchange_audience
    if config_file is not None:
        try:
            return clouds.load_cloud_file(config_file.parent / spec).exchange_audience
        except (OSError, ValueError):
            pass
    return clouds.resolve("public").exchange_audience


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("xtenant")
    except PackageNotFoundError:
        return None


def _trigger_paths(config: Config, config_path: str, kind: str) -> list[str]:
    base = PurePosixPath(config_path).parent
    paths = [config_path]
    if config.customers_dir:
        folder = (base / config.customers_dir.replace("\\", "/")).as_posix()
        folder = os.path.normpath(folder).replace(os.sep, "/")
        if _SAFE_PATH.match(folder) and not folder.startswith(".."):
            paths.append(folder + ("/**" if kind == "github" else ""))
    if config.cloud.lower() not in clouds.BUILTIN:
        cloud_file = os.path.normpath((base / config.cloud).as_posix()).replace(os.sep, "/")
        if _SAFE_PATH.match(cloud_file) and not cloud_file.startswith(".."):
            paths.append(cloud_file)
    paths.append(OUTPUTS[kind])
    return paths


def render_ci(
    kind: CiKind,
    config: Config,
    *,
    config_path: str,
    out_dir: Path,
    kits_dir: str = "kits",
    branch: str = "main",
    environment: str = "xtenant",
    shards: int | None = None,
    install: str | None = None,
    cron: str = "17 5 * * *",
    config_file: Path | None = None,
) -> list[Path]:
    """Write the pipeline for ``kind`` under ``out_dir`` (the repository root):
    ``.github/workflows/xtenant.yml`` or ``azure-pipelines.yml``. Returns the files written.

    ``config_path`` is the configuration as the pipeline sees it, relative to the
    repository root (``xtenant.yaml``); ``config_file`` is where to read it now for its
    ``${VAR}`` names (default ``out_dir/config_path``). ``shards`` > 1 splits the nightly
    status over a matrix (GitHub; default: one job per 500 customers); ``install`` is what
    ``pip install`` gets (default: this version of xtenant)."""
    if kind not in OUTPUTS:
        raise ValueError(f"unknown CI kind {kind!r}; expected one of {', '.join(CI_KINDS)}")
    out_dir = Path(out_dir)
    config_path = _safe_path("config path", config_path)
    kits_dir = _safe_path("kits folder", kits_dir)
    _check("branch", branch, _SAFE_NAME)
    _check("environment", environment, _SAFE_NAME)
    _check("cron", cron, _CRON)
    if shards is None:
        shards = min(MAX_SHARDS, max(1, math.ceil(len(config.customers) / SHARD_SIZE)))
    if not 1 <= shards <= 256:
        raise ValueError(f"shards: {shards} is not between 1 and 256 (GitHub's matrix limit)")
    if install is None:
        version = _version()
        install = f"xtenant=={version}" if version else "xtenant"
    _check("install", install, _SAFE_INSTALL)

    source = config_file if config_file is not None else out_dir / config_path
    env_vars = [v for v in config_variables(source) if not _RESERVED_ENV.match(v)]
    audience = _check("exchange audience", _audience(config, source), _SAFE_AUDIENCE)

    context = {
        "config_path": config_path,
        "kits": kits_dir,
        "branch": branch,
        "environment": environment,
        "shards": shards,
        "install": install,
        "cron": cron,
        "env_vars": env_vars,
        "tenant_id": config.home.tenant_id,
        "audience": audience,
        "paths": _trigger_paths(config, config_path, kind),
        "workflow": OUTPUTS[kind],
        "plan_connection": PLAN_CONNECTION,
        "apply_connection": APPLY_CONNECTION,
        "python_version": "3.11",
    }
    text = render_yaml(TEMPLATES[kind], **context)
    return [write_file(out_dir / OUTPUTS[kind], text)]
