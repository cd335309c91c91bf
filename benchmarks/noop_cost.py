"""The cost of doing nothing: requests and client CPU of a no-op ``xtenant plan`` and of a
no-op ``reconcile`` / ``status`` over N managed customers.

    python benchmarks/noop_cost.py [--sizes 100] [--runs 3] [--json OUT]

Each command runs as CI runs it, in its own process; client CPU is that process's own
user + system time (from ``wait4``), which a busy machine inflates far less than wall
time. Requests come from the sandbox's log, by kind (token / read / write) and service.
Run it twice in one session (e.g. once with ``PYTHONPATH`` pointing at an older checkout)
to compare before and after on the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tests"))


def _run(argv: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """(wall s, client CPU s, exit code, stdout) of ``xtenant argv`` in its own process."""
    exe = str(Path(sys.executable).parent / "xtenant")
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, exe, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    out, err = proc.communicate()
    wall = time.perf_counter() - t
    cpu = _last_child_cpu()
    if proc.returncode not in (0, 2):
        raise RuntimeError(f"xtenant {' '.join(argv)} failed ({proc.returncode}): {err[-800:]}")
    return wall, cpu, proc.returncode, out


_seen = [0.0]


def _last_child_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = r.ru_utime + r.ru_stime
    cpu, _seen[0] = total - _seen[0], total
    return cpu


def _measure(sb: Any, argv: list[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    cpus, walls, stats = [], [], None
    for _ in range(runs):
        mark = sb.mark()
        wall, cpu, _code, _out = _run(argv, env)
        st = sb.stats(mark)
        if stats is None:
            stats = st
        elif (st["total"], st["token"]) != (stats["total"], stats["token"]):
            stats["varies"] = True
        cpus.append(cpu)
        walls.append(wall)
    assert stats is not None
    return {
        "requests": stats["total"],
        "tokens": stats["token"],
        "reads": stats["read"],
        "writes": stats["write"],
        "by_service": stats["by_service"],
        "cpu_s_median": round(statistics.median(cpus), 3),
        "cpu_s_min": round(min(cpus), 3),
        "wall_s_median": round(statistics.median(walls), 3),
        "runs": runs,
    }


def _counts(sb: Any, mark: int, cpu: float) -> dict[str, Any]:
    st = sb.stats(mark)
    return {k: st[k] for k in ("total", "token", "read", "write")} | {"cpu_s": round(cpu, 3)}


def bench_plan(tmp: Path, runs: int) -> dict[str, Any]:
    from provisioning.sandbox import Sandbox

    sb = Sandbox.start(tmp / "sbx-plan", seed="demo")
    try:
        env = {**os.environ, **sb.env(admin="contoso")}
        from e2e_world import customer_sent_values

        env.update(customer_sent_values(sb.info))
        config = tmp / "plan.yaml"
        config.write_text((REPO / "examples" / "sandbox.yaml").read_text())
        mark = sb.mark()
        _wall, cpu, _code, _out = _run(["apply", "-c", str(config), "--yes"], env)
        converge = _counts(sb, mark, cpu)
        mark = sb.mark()
        res = _measure(sb, ["plan", "-c", str(config), "-o", "json"], env, runs)
        res["apply from empty"] = converge
        res["log"] = [f"{e['method']} {e['service']} {e['path'][:110]}" for e in sb.requests(mark)][
            : res["requests"]
        ]
        return res
    finally:
        sb.stop()


def bench_reconcile(tmp: Path, n: int, runs: int) -> dict[str, Any]:
    import scale

    sb, config, _cloud, env = scale._world(tmp, n)
    try:
        kits = tmp / f"kits-{n}"
        run_env = {**os.environ, **env}
        common = ["-c", str(config), "--kits", str(kits), "-o", "json"]
        mark = sb.mark()
        _wall, cpu, _code, _out = _run(
            ["reconcile", *common, "--yes", "--concurrency", str(scale.CONCURRENCY)], run_env
        )
        out: dict[str, Any] = {f"converge n={n}": _counts(sb, mark, cpu)}
        for label, argv in (
            ("reconcile", ["reconcile", *common, "--yes", "--concurrency", str(scale.CONCURRENCY)]),
            ("status", ["status", *common]),
        ):
            m = _measure(sb, argv, run_env, runs)
            m["requests_per_customer"] = round(m["requests"] / n, 2)
            m["cpu_ms_per_customer"] = round(m["cpu_s_median"] * 1000 / n, 1)
            out[f"{label} n={n}"] = m
        return out
    finally:
        sb.stop()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--skip-plan", action="store_true")
    args = ap.parse_args()
    import provisioning

    result: dict[str, Any] = {"package": str(Path(provisioning.__file__).parent)}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if not args.skip_plan:
            result["plan noop"] = bench_plan(tmp, args.runs)
        for n in (int(x) for x in args.sizes.split(",") if x):
            result.update(bench_reconcile(tmp, n, args.runs))
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
