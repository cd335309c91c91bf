"""Reconcile and status at scale on the sandbox (issue 7's benchmark).

For N customers (each its own tenant with a DCR, managed by the pipeline identity):
converge once, then measure a no-op ``reconcile`` and a ``status`` with a realistic
latency injected on every request (30 ms) and throttling on (a share of requests gets
429 + Retry-After). Reported: wall time, requests per customer, peak RSS of the CLI process, and
how close the wall time is to the lower bound (requests / concurrency * latency).
The baseline is what the seed write-ups do: one ``az`` invocation per step, in sequence.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

LATENCY_MS = 30
THROTTLE_P = 0.01
CONCURRENCY = 8


def _world(tmp: Path, n: int) -> tuple[Any, Path, Any, dict[str, str]]:
    from e2e_world import pipeline_identity

    from provisioning.core import clouds
    from provisioning.sandbox import Sandbox

    tmp.mkdir(parents=True, exist_ok=True)
    sb = Sandbox.start(tmp / f"sbx-{n}", seed="demo")
    names = [f"c{i:04d}" for i in range(n)]
    sb.add_tenants(names, kind="logs")
    pipeline = pipeline_identity(sb, names)
    home = (REPO / "examples" / "sandbox.yaml").read_text().split("\ncustomers")[0] + "\n"
    lines = [home, "customers:\n"]
    for name in names:
        t = sb.info["tenants"][name]
        lines.append(
            f"  - name: {name}\n    tenant: {t['domain']}\n    app: logs\n    customer_side: managed\n"
            f"    roles:\n      - role: Monitoring Metrics Publisher\n        scope: {t['resources']['dcr']}\n"
        )
    config = tmp / f"xtenant-{n}.yaml"
    config.write_text("".join(lines))
    env = {
        **sb.env(),
        "AZURE_TENANT_ID": sb.info["tenants"]["contoso"]["tenant_id"],
        "AZURE_CLIENT_ID": pipeline["client_id"],
        "AZURE_CLIENT_SECRET": pipeline["client_secret"],
    }
    return sb, config, clouds.load_cloud_file(sb.info["cloud_file"]), env


def _cli(argv: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Run ``xtenant`` as CI does (its own process, so the sandbox does not share its GIL):
    wall seconds, peak RSS in MiB (from wait4), exit code, stdout."""
    exe = str(Path(sys.executable).parent / "xtenant")
    t = time.perf_counter()
    proc = subprocess.Popen(
        [exe, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    out, err = proc.communicate()
    wall = time.perf_counter() - t
    _, _status, usage = os.wait4(proc.pid, 0) if proc.returncode is None else (0, 0, None)
    rss = (
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if usage is None
        else usage.ru_maxrss / 1024
    )
    if proc.returncode not in (0, 2):
        raise RuntimeError(f"xtenant {' '.join(argv)} failed ({proc.returncode}): {err[-800:]}")
    return wall, rss, proc.returncode, out


def _measure(sb: Any, argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    mark = sb.mark()
    wall, rss, _code, out = _cli(argv, env)
    st = sb.stats(mark)
    throttled = sum(1 for e in sb.requests(mark) if e["status"] == 429)
    report = json.loads(out)
    assert report["ok"] and not report["has_changes"], report.get("errors")
    return {
        "wall_s": round(wall, 2),
        "requests": st["total"],
        "reads": st["read"],
        "writes": st["write"],
        "tokens": st["token"],
        "throttled": throttled,
        "peak_rss_mib_all_children": round(rss, 1),
    }


def bench_scale(tmp: Path, sizes: tuple[int, ...] = (10, 100, 500)) -> dict[str, Any]:
    from provisioning.config import load_config
    from provisioning.reconcile import reconcile

    out: dict[str, Any] = {}
    for n in sizes:
        sb, config, cloud, env = _world(tmp, n)
        saved = dict(os.environ)
        os.environ.update(env)
        kits = tmp / f"kits-{n}"
        try:
            t = time.perf_counter()
            first = reconcile(
                load_config(config), cloud, kits=kits, plan_only=False, concurrency=CONCURRENCY
            )
            converge = time.perf_counter() - t
            assert first.ok, first.errors[:3]
            sb.fault("latency", latency_ms=LATENCY_MS)
            sb.fault("throttle", service="arm", probability=THROTTLE_P, retry_after=1)
            sb.fault("throttle", service="graph", probability=THROTTLE_P, retry_after=1)
            run_env = {**os.environ, **env}
            common = ["-c", str(config), "--kits", str(kits), "-o", "json"]
            for label, argv in (
                ("reconcile", ["reconcile", *common, "--yes", "--concurrency", str(CONCURRENCY)]),
                ("status", ["status", *common]),
            ):
                m = _measure(sb, argv, run_env)
                m["requests_per_customer"] = round(m["requests"] / n, 2)
                lower = m["requests"] / CONCURRENCY * LATENCY_MS / 1000
                m["lower_bound_s"] = round(lower, 2)
                m["ratio_to_lower_bound"] = round(m["wall_s"] / lower, 2) if lower else None
                out[f"{label} n={n}"] = m
            out[f"converge n={n}"] = {"wall_s": round(converge, 2), "latency_ms": 0}
        finally:
            os.environ.clear()
            os.environ.update(saved)
            sb.stop()
            shutil.rmtree(kits, ignore_errors=True)
    return out


def bench_az_baseline(tmp: Path, n: int = 10) -> dict[str, Any]:
    """The seed write-ups' way: per customer, az steps run one after another (login to the
    customer tenant, check the service principal, list its role assignments)."""
    try:
        from azcli_env import ensure_azcli
    except ImportError:
        return {"skipped": "tests/azcli_env.py not available"}
    try:
        az = ensure_azcli()
    except Exception as e:  # no azure-cli from the registry: say so, do not invent numbers
        return {"skipped": f"azure-cli not installable: {e}"}
    sb, config, cloud, env = _world(tmp / "baseline", n)
    try:
        from provisioning.config import load_config
        from provisioning.reconcile import reconcile

        saved = dict(os.environ)
        os.environ.update(env)
        try:
            assert reconcile(load_config(config), cloud, kits=tmp / "kits-az", plan_only=False).ok
        finally:
            os.environ.clear()
            os.environ.update(saved)
        sb.fault("latency", latency_ms=LATENCY_MS)
        app_id = _app_id(tmp / "kits-az")
        script = tmp / "baseline.sh"
        lines = [
            "set -euo pipefail",
            f'AZ="{az}"',
            f'"$AZ" cloud register -n xt --endpoint-resource-manager "{sb.info["arm"]}" >/dev/null 2>&1 || true',
            '"$AZ" cloud set -n xt',
        ]
        for i in range(n):
            t = sb.info["tenants"][f"c{i:04d}"]
            lines += [
                f'"$AZ" login --service-principal -u "{env["AZURE_CLIENT_ID"]}" -p "{env["AZURE_CLIENT_SECRET"]}" '
                f"--tenant {t['tenant_id']} --allow-no-subscriptions -o none",
                f'sp=$("$AZ" ad sp show --id {app_id} --query id -o tsv)',
                f'"$AZ" role assignment list --assignee-object-id "$sp" --scope "{t["resources"]["dcr"]}" '
                "--fill-principal-name false -o none",
            ]
        script.write_text("\n".join(lines) + "\n")
        cfg = tmp / "azconfig"
        cfg.mkdir(exist_ok=True)
        run_env = {
            **os.environ,
            **env,
            "AZURE_CONFIG_DIR": str(cfg),
            "AZURE_CORE_INSTANCE_DISCOVERY": "false",
            "AZURE_CORE_COLLECT_TELEMETRY": "false",
        }
        t = time.perf_counter()
        proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, env=run_env)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            return {"failed": proc.stderr[-500:]}
        return {
            "customers": n,
            "az_invocations": 2 + 3 * n,
            "wall_s": round(wall, 2),
            "per_customer_s": round(wall / n, 2),
        }
    finally:
        sb.stop()


def _app_id(kits: Path) -> str:
    import json

    for f in kits.glob("*/kit.json"):
        return str(json.loads(f.read_text())["home"]["app"]["app_id"])
    raise RuntimeError("no kit rendered")
