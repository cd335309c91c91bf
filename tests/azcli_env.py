"""The az CLI as a second, independent client of the sandbox.

``azure-cli`` is installed on first use into its own venv (``<repo>/.azcli-venv``, gitignored;
``XTENANT_AZCLI_VENV`` moves it) so that its pinned dependencies never meet ours. Each session
gets its own ``AZURE_CONFIG_DIR``, trusts the sandbox's CA through ``REQUESTS_CA_BUNDLE``,
registers the sandbox as a cloud from the sandbox's ``/metadata/endpoints`` (as
``az cloud register --endpoint-resource-manager`` does for Azure Stack or a national cloud) and
signs in as a tenant's sandbox admin with ``az login --service-principal``.

Only public az knobs are used, nothing is patched:

* ``az cloud register`` reads ``{arm}/metadata/endpoints?api-version=2022-09-01`` (one cloud
  object): login endpoint, ARM audience, and ``microsoftGraphResourceId``, which az uses both
  as the base URL of its Graph calls and as their token scope (``{graph}//.default``).
* MSAL's instance discovery (a call to login.microsoftonline.com for an authority it does not
  know) is turned off with az's own setting ``core.instance_discovery=false`` (azure-cli-core
  ``_profile.py``: "In Azure Stack environment, use core.instance_discovery=false"), given as
  the knack environment variable ``AZURE_CORE_INSTANCE_DISCOVERY=false``.

    az = az_login(sandbox, "litware", tmp_path / "az")
    az("account", "show")                       # parsed JSON
    run_kit_script(sandbox, kit_dir / "assign-roles.sh", "litware")
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from admin_rest import AdminRest

REPO = Path(__file__).resolve().parent.parent
AZ_CLI_VERSION = "2.91.0"
CLOUD_NAME = "xtenant-sandbox"
INSTALL_TIMEOUT_S = 1200
STAMP = ".xtenant-azcli.json"


class AzCliUnavailable(RuntimeError):
    """azure-cli cannot be installed here (no index reachable, no wheel for this Python...)."""


class AzError(RuntimeError):
    def __init__(self, args: list[str], proc: subprocess.CompletedProcess[str]) -> None:
        super().__init__(
            f"az {' '.join(args)} exited {proc.returncode}\n--- stderr ---\n{proc.stderr}"
            f"\n--- stdout ---\n{proc.stdout}"
        )
        self.proc = proc


# ---- installation -------------------------------------------------------------------------------
def venv_dir() -> Path:
    return Path(os.environ.get("XTENANT_AZCLI_VENV") or REPO / ".azcli-venv")


def _az_path(venv: Path) -> Path:
    return venv / "bin" / "az"


def _stamp(venv: Path) -> dict[str, Any] | None:
    try:
        return json.loads((venv / STAMP).read_text())
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One installer at a time (pytest-xdist workers share the venv)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_azcli(version: str = AZ_CLI_VERSION) -> Path:
    """The ``az`` executable of the isolated venv, installing ``azure-cli==version`` if needed.

    Raises :class:`AzCliUnavailable` when it cannot be installed (the caller skips)."""
    venv = venv_dir()
    az = _az_path(venv)
    stamp = _stamp(venv)
    if az.exists() and stamp and stamp.get("version") == version:
        return az
    with _locked(venv.parent / f"{venv.name}.lock"):
        stamp = _stamp(venv)
        if az.exists() and stamp and stamp.get("version") == version:
            return az
        started = time.monotonic()
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(venv)],
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                f"azure-cli=={version}",
            ],
        ]
        for cmd in steps:
            try:
                proc = subprocess.run(
                    cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
                )
            except (OSError, subprocess.TimeoutExpired) as e:
                raise AzCliUnavailable(f"{' '.join(cmd[:4])}...: {e}") from e
            if proc.returncode != 0:
                errors = [ln for ln in proc.stderr.splitlines() if not ln.startswith("WARNING:")]
                raise AzCliUnavailable(
                    f"cannot install azure-cli=={version} ({' '.join(cmd[:4])}... exited "
                    f"{proc.returncode}): " + " | ".join(errors[-5:])
                )
        if not az.exists():
            raise AzCliUnavailable(f"azure-cli=={version} installed no {az}")
        seconds = round(time.monotonic() - started, 1)
        (venv / STAMP).write_text(json.dumps({"version": version, "install_seconds": seconds}))
        return az


def install_seconds() -> float | None:
    """How long the last installation took (recorded in the venv), for reports."""
    stamp = _stamp(venv_dir())
    return stamp.get("install_seconds") if stamp else None


# ---- sessions -----------------------------------------------------------------------------------
def _base_env() -> dict[str, str]:
    """The caller's environment minus anything that would make az (or MSAL) use something other
    than the session's own config dir and credentials."""
    drop = ("AZURE_", "ARM_", "MSAL_", "IDENTITY_", "IMDS_", "MSI_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def az_env(sandbox: Any, config_dir: Path, az: Path | None = None) -> dict[str, str]:
    """The environment of an az session against ``sandbox`` with its state in ``config_dir``."""
    az = az or ensure_azcli()
    env = _base_env()
    env.update(
        {
            "AZURE_CONFIG_DIR": str(config_dir),
            "REQUESTS_CA_BUNDLE": sandbox.info["ca_bundle"],
            "AZURE_CORE_INSTANCE_DISCOVERY": "false",
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
            "AZURE_CORE_SURVEY_MESSAGE": "false",
            "AZURE_CORE_NO_COLOR": "true",
            "AZ": str(az),
            "PATH": f"{az.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    return env


@dataclass
class AzSession:
    """``az`` with an isolated config dir, signed in to one sandbox tenant."""

    az: Path
    config_dir: Path
    env: dict[str, str]
    tenant: str | None = None
    calls: list[tuple[list[str], float]] = field(default_factory=list)

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        argv = [str(a) for a in args]
        started = time.monotonic()
        proc = subprocess.run(
            [str(self.az), *argv],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        self.calls.append((argv, time.monotonic() - started))
        return proc

    def __call__(self, *args: str, timeout: float = 180) -> Any:
        """Run az with ``-o json``; raise :class:`AzError` on a non-zero exit; parsed output."""
        argv = [*args, "-o", "json"]
        proc = self.run(*argv, timeout=timeout)
        if proc.returncode != 0:
            raise AzError(argv, proc)
        return json.loads(proc.stdout) if proc.stdout.strip() else None


def az_session(sandbox: Any, config_dir: Path) -> AzSession:
    """A fresh az config dir with the sandbox registered (from its ``/metadata/endpoints``)
    and made the active cloud; not signed in."""
    az = ensure_azcli()
    config_dir.mkdir(parents=True, exist_ok=True)
    s = AzSession(az, config_dir, az_env(sandbox, config_dir, az))
    s("cloud", "register", "-n", CLOUD_NAME, "--endpoint-resource-manager", sandbox.info["arm"])
    s("cloud", "set", "-n", CLOUD_NAME)
    return s


def login(s: AzSession, sandbox: Any, tenant_name: str) -> Any:
    """``az login --service-principal`` as the tenant's sandbox admin; az's subscription list."""
    t = sandbox.info["tenants"][tenant_name]
    args = ["login", "--service-principal", "-u", t["admin"]["client_id"]]
    args += ["-p", t["admin"]["client_secret"], "--tenant", t["tenant_id"]]
    if not t.get("subscription_id"):
        args.append("--allow-no-subscriptions")  # a Microsoft 365-only tenant (fabrikam)
    out = s(*args)
    s.tenant = tenant_name
    return out


def az_login(sandbox: Any, tenant_name: str, config_dir: Path) -> AzSession:
    """Registered, selected and signed in as ``tenant_name``'s admin: ready for commands."""
    s = az_session(sandbox, config_dir)
    login(s, sandbox, tenant_name)
    return s


def run_kit_script(
    sandbox: Any,
    script_path: str | os.PathLike[str],
    tenant_name: str,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run a kit's ``assign-roles.sh`` with bash, ``AZ``/``PATH`` pointing at the isolated az,
    signed in (in a throw-away config dir) as ``tenant_name``'s sandbox admin. ``env`` adds
    variables (``DRY_RUN=1``, ``RETRY_SECONDS=1``). Never raises on the script's exit code."""
    script = Path(script_path).resolve()
    config_dir = Path(tempfile.mkdtemp(prefix="xtenant-az-"))
    try:
        s = az_login(sandbox, tenant_name, config_dir)
        return subprocess.run(
            ["bash", str(script)],
            cwd=script.parent,
            env={**s.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


# ---- the sandbox's state, read without az ---------------------------------------------------------
# raw REST calls to the sandbox as a tenant's admin: how the tests check az's output against
# the sandbox's state (tests/admin_rest.py)
Rest = AdminRest
