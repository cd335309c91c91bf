"""The ``xtenant`` command line: parses, calls the library, renders. Nothing else.

Start-up cost matters (CI runs it hundreds of times): the Azure SDKs and msgraph are
imported only inside the commands that talk to Azure, never at module level.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, cast

import typer

from provisioning.cli import exitcodes
from provisioning.cli.output import Printer

app = typer.Typer(
    name="xtenant",
    help="Secret-less cross-tenant identity chains on Microsoft Entra / Azure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
sandbox_app = typer.Typer(
    help="The local Azure for tests, demos and rehearsals.", no_args_is_help=True
)
app.add_typer(sandbox_app, name="sandbox")


class Fmt(StrEnum):
    table = "table"
    json = "json"


class State:
    cloud: str | None = None
    verbose: int = 0


STATE = State()

ConfigOpt = Annotated[
    Path,
    typer.Option("-c", "--config", envvar="XTENANT_CONFIG", help="Configuration file (YAML)."),
]
OutputOpt = Annotated[Fmt, typer.Option("-o", "--output", help="Output format.")]


@app.callback()
def _global(
    cloud: Annotated[
        str | None,
        typer.Option(
            "--cloud",
            envvar="XTENANT_CLOUD",
            help="public, usgov, china or a path to a cloud JSON file (overrides the config).",
        ),
    ] = None,
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True, help="More detail.")] = 0,
) -> None:
    STATE.cloud = cloud
    STATE.verbose = verbose
    import logging

    # The SDKs log every failed token request as a warning; xtenant reports (and
    # diagnoses) those itself, so their logs show only with -v / -vv.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sdk_level = {0: logging.CRITICAL, 1: logging.INFO}.get(verbose, logging.DEBUG)
    for name in ("azure", "msal", "httpx", "kiota_http", "xtenant"):
        logging.getLogger(name).setLevel(
            sdk_level if name != "xtenant" else (logging.WARNING if verbose == 0 else logging.INFO)
        )


def _fail(printer: Printer, message: str, code: int = exitcodes.ERROR) -> NoReturn:
    printer.error(message)
    raise typer.Exit(code)


# ---- configuration ----------------------------------------------------------------------


@app.command()
def validate(
    config: ConfigOpt = Path("xtenant.yaml"),
    output: OutputOpt = Fmt.table,
) -> None:
    """Check the configuration: schema, cross-references and least-privilege lint. No network."""
    from provisioning.config import ConfigError, load_config

    printer = Printer()
    try:
        loaded = load_config(config)
    except ConfigError as exc:
        if output is Fmt.json:
            printer.json(
                {
                    "valid": False,
                    "errors": [i.to_json() for i in exc.errors],
                    "warnings": [i.to_json() for i in exc.warnings],
                }
            )
        else:
            for issue in exc.issues:
                printer.issue(issue)
            printer.summary(
                f"{config}: {_count(exc.issues, 'error')}, {_count(exc.issues, 'warning')}",
                ok=False,
            )
        raise typer.Exit(exitcodes.ERROR) from None
    if output is Fmt.json:
        printer.json(
            {"valid": True, "errors": [], "warnings": [w.to_json() for w in loaded.warnings]}
        )
        return
    for w in loaded.warnings:
        printer.issue(w)
    c = loaded.config
    printer.summary(
        f"{config}: valid — {len(c.home.identities)} identities, {len(c.home.apps)} apps, "
        f"{len(c.customers)} customers"
        + (f", {_count(loaded.warnings, 'warning')}" if loaded.warnings else ""),
        ok=True,
    )


def _count(issues: list, severity: str) -> str:
    n = sum(1 for i in issues if i.severity == severity)
    return f"{n} {severity}{'s' if n != 1 else ''}"


@app.command()
def schema() -> None:
    """Print the JSON Schema of the configuration file (for editors and CI checks)."""
    from provisioning.config import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


@app.command()
def init(
    config: ConfigOpt = Path("xtenant.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter configuration."""
    from provisioning.config import starter_yaml

    printer = Printer()
    if config.exists() and not force:
        _fail(printer, f"{config} exists; use --force to overwrite it")
    config.write_text(starter_yaml())
    printer.summary(f"wrote {config}; edit it, then run: xtenant validate -c {config}", ok=True)


# ---- home engine ------------------------------------------------------------------------


class PlanFmt(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


CustomerOpt = Annotated[
    list[str] | None,
    typer.Option("--customer", help="Limit to these customers (repeatable)."),
]
PruneOpt = Annotated[
    bool,
    typer.Option(
        "--prune", help="Also remove what xtenant manages but the config no longer lists."
    ),
]


def _load(printer: Printer, config: Path) -> tuple:
    """Config + cloud, or exit 1 with every problem listed (no request is sent)."""
    from provisioning.config import ConfigError, load_config
    from provisioning.core.clouds import CloudError
    from provisioning.core.runner import resolve_cloud

    try:
        loaded = load_config(config)
        return loaded, resolve_cloud(loaded, STATE.cloud)
    except ConfigError as exc:
        for issue in exc.issues:
            printer.issue(issue)
        raise typer.Exit(exitcodes.ERROR) from None
    except CloudError as exc:
        _fail(printer, f"--cloud: {exc}")


def _home_only(printer: Printer, customer: list[str] | None) -> None:
    """plan/apply manage the home side, which every customer shares: nothing to scope."""
    if customer:
        _fail(
            printer,
            "--customer: plan and apply manage the home side, shared by every customer; "
            "per customer use `reconcile`, `kit --customer`, `verify --customer` or "
            "`customer plan --kit`",
        )


def _progress(printer: Printer):
    if not printer.tty:
        return lambda address, message: None
    return lambda address, message: printer.progress(f"{message} {address}")


def _report_failures(printer: Printer, outcome) -> None:
    for f in outcome.failures:
        printer.error(f"{f.address}: {f.message}")


def _show_plan(printer: Printer, outcome, output: PlanFmt, title: str = "xtenant plan") -> None:
    from provisioning.core.plan import render_markdown, render_text

    if output is PlanFmt.json:
        data = outcome.plan.to_json()
        data["errors"] = [{"address": f.address, "message": f.message} for f in outcome.failures]
        printer.json(data)
        return
    if outcome.failures:  # a plan built on failed reads is not a plan
        _report_failures(printer, outcome)
        printer.line(
            f"Plan incomplete: {len(outcome.failures)} object(s) could not be read (see "
            "above); nothing is shown for them or for what depends on them."
        )
        if not outcome.plan.has_changes:
            return
    if output is PlanFmt.markdown:
        printer.line(render_markdown(outcome.plan, title=title))
    else:
        printer.plan(render_text(outcome.plan))


def _plan_exit(outcome, detailed_exitcode: bool) -> None:
    if outcome.failures:
        raise typer.Exit(exitcodes.ERROR)
    if detailed_exitcode and outcome.plan.has_changes:
        raise typer.Exit(exitcodes.CHANGES)


def _apply_flow(
    printer: Printer,
    plan_fn,
    apply_fn,
    *,
    yes: bool,
    output: Fmt,
    yes_privileged: bool = False,
) -> None:
    """Plan, show, confirm (unless --yes), apply, then report what was verified.

    Privileged grants (a role or permission that can change or grant anything) are asked
    for a second time, by name, unless ``--yes-privileged``: ``--yes`` alone never grants them.
    """
    from provisioning.core.plan import render_text

    planned = plan_fn()
    printer.clear_progress()
    if planned.failures:
        _report_failures(printer, planned)
        raise typer.Exit(exitcodes.ERROR)
    if not planned.plan.has_changes:
        if output is Fmt.json:
            printer.json(
                {"applied": [], "verified": [], "errors": [], "plan": planned.plan.to_json()}
            )
        else:
            printer.summary(planned.plan.summary(), ok=True)
        return
    if output is not Fmt.json:
        printer.plan(render_text(planned.plan))
    interactive = sys.stdin.isatty()
    if not yes:
        if not interactive:
            _fail(printer, "changes are pending; re-run with --yes to apply them non-interactively")
        if not typer.confirm("Apply these changes?", default=False):
            _fail(printer, "cancelled; nothing was changed")
    privileged = planned.plan.privileged
    if privileged and not yes_privileged:
        names = "; ".join(c.address for c in privileged)
        if not interactive:
            _fail(
                printer,
                f"the plan grants privileged access ({names}): read it, then re-run with "
                "--yes-privileged to grant it; nothing was changed",
            )
        for c in privileged:
            printer.plan(f"!! {c.address}: {c.privileged}")
        if not typer.confirm(
            f"{len(privileged)} of these grant privileged access. Grant them?", default=False
        ):
            _fail(printer, "cancelled; nothing was changed")
    outcome = apply_fn()
    printer.clear_progress()
    if output is Fmt.json:
        printer.json(
            {
                "applied": [c.to_json() for c in outcome.applied],
                "verified": outcome.verified,
                "errors": [{"address": f.address, "message": f.message} for f in outcome.failures],
                "plan": outcome.plan.to_json(),
            }
        )
    else:
        done = {"create": "created", "update": "updated", "delete": "deleted"}
        for c in outcome.applied:
            printer.line(f"{c.action.symbol} {c.address}: {done[c.action.value]}")
        for v in outcome.verified:
            printer.line(f"verified {v}")
        _report_failures(printer, outcome)
        if outcome.plan.has_changes:
            printer.line("still different after apply:")
            printer.line(render_text(outcome.plan))
    if outcome.failures or outcome.plan.has_changes:
        raise typer.Exit(exitcodes.ERROR)
    if output is not Fmt.json:
        printer.summary(
            f"Apply complete: {len(outcome.applied)} changes. {outcome.plan.summary()}", ok=True
        )


PlanOutputOpt = Annotated[PlanFmt, typer.Option("-o", "--output", help="Output format.")]
DetailedOpt = Annotated[
    bool, typer.Option("--detailed-exitcode", help="Exit 2 when changes are pending.")
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")]


@app.command()
def plan(
    config: ConfigOpt = Path("xtenant.yaml"),
    customer: CustomerOpt = None,
    output: PlanOutputOpt = PlanFmt.table,
    detailed_exitcode: DetailedOpt = False,
    prune: PruneOpt = False,
) -> None:
    """Show what apply would change. Reads only; never writes."""
    from provisioning.core.runner import Options, home_plan

    printer = Printer()
    _home_only(printer, customer)
    loaded, cloud = _load(printer, config)
    outcome = home_plan(loaded, cloud, Options(prune=prune, progress=_progress(printer)))
    printer.clear_progress()
    _show_plan(printer, outcome, output)
    _plan_exit(outcome, detailed_exitcode)


@app.command()
def apply(
    config: ConfigOpt = Path("xtenant.yaml"),
    customer: CustomerOpt = None,
    yes: YesOpt = False,
    prune: PruneOpt = False,
    output: OutputOpt = Fmt.table,
) -> None:
    """Make Azure and Entra match the configuration, then confirm by observing again."""
    from provisioning.core.runner import Options, home_apply, home_plan

    printer = Printer()
    _home_only(printer, customer)
    loaded, cloud = _load(printer, config)
    opts = Options(prune=prune, progress=_progress(printer))
    _apply_flow(
        printer,
        lambda: home_plan(loaded, cloud, opts),
        lambda: home_apply(loaded, cloud, opts),
        yes=yes,
        output=output,
    )


# ---- customer side --------------------------------------------------------------------

customer_app = typer.Typer(
    help="Run by a customer admin in their own tenant, from a kit.", no_args_is_help=True
)
app.add_typer(customer_app, name="customer")
KitOpt = Annotated[Path, typer.Option("--kit", help="The kit.json the provider sent.")]


def _load_kit(printer: Printer, kit: Path):
    """The kit and the cloud to apply it with, or exit 1 naming every bad field."""
    from provisioning.core.clouds import CloudError
    from provisioning.core.runner import load_customer_kit
    from provisioning.kit.model import KitError

    try:
        return load_customer_kit(kit, STATE.cloud)
    except CloudError as exc:
        _fail(printer, f"--cloud: {exc}")
    except KitError as exc:
        for issue in exc.issues:
            printer.issue(issue)
        raise typer.Exit(exitcodes.ERROR) from None


@customer_app.command("plan")
def customer_plan(
    kit: KitOpt,
    output: PlanOutputOpt = PlanFmt.table,
    detailed_exitcode: DetailedOpt = False,
) -> None:
    """Show exactly what would be granted in your tenant. Reads only."""
    from provisioning.core.runner import Options
    from provisioning.core.runner import customer_plan as run

    printer = Printer()
    spec, cloud = _load_kit(printer, kit)
    outcome = run(spec, cloud, Options(progress=_progress(printer)))
    printer.clear_progress()
    _show_plan(printer, outcome, output, title=f"xtenant customer plan: {spec.customer.name}")
    _plan_exit(outcome, detailed_exitcode)


def _customer_flow(
    kit: Path, *, yes: bool, output: Fmt, remove: bool, yes_privileged: bool = False
) -> None:
    from provisioning.core.runner import Options
    from provisioning.core.runner import customer_apply as run_apply
    from provisioning.core.runner import customer_plan as run_plan

    printer = Printer()
    spec, cloud = _load_kit(printer, kit)
    opts = Options(progress=_progress(printer))
    _apply_flow(
        printer,
        lambda: run_plan(spec, cloud, opts, remove=remove),
        lambda: run_apply(spec, cloud, opts, remove=remove),
        yes=yes,
        output=output,
        yes_privileged=yes_privileged,
    )


YesPrivilegedOpt = Annotated[
    bool,
    typer.Option(
        "--yes-privileged",
        help="Also grant what the plan marks PRIVILEGED without asking again.",
    ),
]


@customer_app.command("apply")
def customer_apply(
    kit: KitOpt,
    yes: YesOpt = False,
    yes_privileged: YesPrivilegedOpt = False,
    output: OutputOpt = Fmt.table,
) -> None:
    """Consent to the provider's app and grant exactly the kit's roles."""
    _customer_flow(kit, yes=yes, output=output, remove=False, yes_privileged=yes_privileged)


@customer_app.command("remove")
def customer_remove(kit: KitOpt, yes: YesOpt = False, output: OutputOpt = Fmt.table) -> None:
    """Offboard: remove what the kit granted, then the provider's service principal."""
    _customer_flow(kit, yes=yes, output=output, remove=True)


# ---- reconcile and status (CI) ---------------------------------------------------------

KitsOpt = Annotated[
    Path, typer.Option("--kits", help="Kits folder (the record of who is onboarded).")
]


def _report_out(printer: Printer, report: Any, output: PlanFmt, report_path: Path | None) -> None:
    from provisioning.cli.report import render_markdown, render_table

    if report_path is not None:
        report_path.write_text(json.dumps(report.to_json(), indent=2, sort_keys=False) + "\n")
    if output is PlanFmt.json:
        printer.json(report.to_json())
    elif output is PlanFmt.markdown:
        printer.line(render_markdown(report))
    else:
        printer.line(render_table(report))


@app.command()
def reconcile(
    config: ConfigOpt = Path("xtenant.yaml"),
    kits: KitsOpt = Path("kits"),
    plan_only: Annotated[
        bool, typer.Option("--plan-only", help="Read only: for pull requests.")
    ] = False,
    yes: YesOpt = False,
    output: PlanOutputOpt = PlanFmt.table,
    detailed_exitcode: DetailedOpt = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the JSON report here.")
    ] = None,
    shard: Annotated[
        str | None, typer.Option("--shard", help="I/N: this job's slice of the customers.")
    ] = None,
    prune: PruneOpt = False,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=64)] = 8,
) -> None:
    """Home apply + kits re-rendered where changed + managed customers + status, for CI."""
    from provisioning.reconcile import parse_shard
    from provisioning.reconcile import reconcile as run

    printer = Printer()
    loaded, cloud = _load(printer, config)
    try:
        sh = parse_shard(shard) if shard else None
    except ValueError as exc:
        _fail(printer, str(exc))
    if not plan_only and not yes:
        _fail(printer, "reconcile changes Azure and the kits folder: pass --yes (or --plan-only)")
    result = run(
        loaded,
        cloud,
        kits=kits,
        plan_only=plan_only,
        shard=sh,
        prune=prune,
        concurrency=concurrency,
        progress=_progress(printer),
    )
    printer.clear_progress()
    _report_out(printer, result, output, report)
    if not result.ok:
        raise typer.Exit(exitcodes.ERROR)
    if detailed_exitcode and result.has_changes:
        raise typer.Exit(exitcodes.CHANGES)


@app.command()
def status(
    config: ConfigOpt = Path("xtenant.yaml"),
    kits: KitsOpt = Path("kits"),
    output: PlanOutputOpt = PlanFmt.table,
    merge: Annotated[
        bool, typer.Option("--merge", help="Join the REPORTS of sharded runs instead of observing.")
    ] = False,
    reports: Annotated[
        list[Path] | None, typer.Argument(help="Shard reports (with --merge).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the JSON report here.")
    ] = None,
    detailed_exitcode: DetailedOpt = False,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="On a host with the identity: test consent and grants now (verify --probe).",
        ),
    ] = False,
) -> None:
    """One row per customer: kit, consent, roles, and what to do next. Reads only."""
    from provisioning.reconcile import Report
    from provisioning.reconcile import merge as join
    from provisioning.reconcile import reconcile as run

    printer = Printer()
    if merge or reports:
        if not (merge and reports):
            _fail(printer, "--merge takes one or more report files (and report files need --merge)")
        try:
            result = join([Report.from_json(json.loads(p.read_text())) for p in reports or []])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            _fail(printer, f"--merge: {exc}")
    else:
        loaded, cloud = _load(printer, config)
        result = run(loaded, cloud, kits=kits, plan_only=True, progress=_progress(printer))
        if live:
            import datetime as dt

            from provisioning.chain.verify import verify as run_verify
            from provisioning.cli.report import fold_verify

            checked = run_verify(
                loaded, cloud, probe=True, app_ids=kit_app_ids(kits) or None, kit_dir=str(kits)
            )
            fold_verify(result, checked, at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        printer.clear_progress()
    _report_out(printer, result, output, report)
    if not result.ok:
        raise typer.Exit(exitcodes.ERROR)
    if detailed_exitcode and result.has_changes:
        raise typer.Exit(exitcodes.CHANGES)


@app.command()
def revoke(
    app_key: Annotated[str, typer.Option("--app", help="Key of the app whose credentials go.")],
    config: ConfigOpt = Path("xtenant.yaml"),
    yes: YesOpt = False,
    output: OutputOpt = Fmt.table,
) -> None:
    """Emergency stop: delete the app's federated credentials, so no customer token can be minted."""
    from provisioning.config import UnknownNameError
    from provisioning.core.runner import Options, revoke_apply, revoke_plan

    printer = Printer()
    loaded, cloud = _load(printer, config)
    try:
        app_cfg = loaded.config.app(app_key)
    except UnknownNameError as exc:
        _fail(printer, f"--app: {exc}")
    affected = loaded.config.customers_for_app(app_cfg.key)
    if output is not Fmt.json:
        printer.line(
            f"Impact: {len(affected)} customer(s) lose access through {app_cfg.display_name}: "
            + (", ".join(c.name for c in affected) or "none")
        )
        printer.line(
            "Their grants stay in place; `xtenant apply` re-creates the credentials unless "
            f"apps[{app_cfg.key}].trusts is emptied first."
        )
    opts = Options(progress=_progress(printer))
    _apply_flow(
        printer,
        lambda: revoke_plan(loaded, cloud, app_cfg.key, opts),
        lambda: revoke_apply(loaded, cloud, app_cfg.key, opts),
        yes=yes,
        output=output,
    )


# ---- verify ---------------------------------------------------------------------------


def kit_app_ids(kits: Path) -> dict[str, str]:
    """App ids recorded in rendered kits (so a workload host needs no Graph access)."""
    out: dict[str, str] = {}
    if kits.is_dir():
        for f in sorted(kits.glob("*/kit.json")):
            try:
                app = json.loads(f.read_text())["home"]["app"]
                out.setdefault(app["key"], app["app_id"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
    return out


@app.command()
def verify(
    config: ConfigOpt = Path("xtenant.yaml"),
    customer: CustomerOpt = None,
    probe: Annotated[
        bool, typer.Option("--probe", help="Also make a harmless call proving each grant.")
    ] = False,
    output: OutputOpt = Fmt.table,
    as_host: Annotated[
        str | None,
        typer.Option("--as", help="On the sandbox: act as this host (its identity endpoint)."),
    ] = None,
    state: Annotated[
        Path, typer.Option("--state", help="Sandbox state directory (with --as).")
    ] = Path(".sandbox"),
    identity: Annotated[
        str | None,
        typer.Option(
            "--identity", help="Managed identity: client id, object_id:<id> or resource id."
        ),
    ] = None,
    app_id: Annotated[
        list[str] | None,
        typer.Option("--app", help="KEY=APPID when neither kits nor Graph can tell it."),
    ] = None,
    kits: KitsOpt = Path("kits"),
    read_home: Annotated[
        bool,
        typer.Option(
            "--read-home", help="Also read the app's FICs and ids with the admin credential."
        ),
    ] = False,
) -> None:
    """Prove the chain from this host, hop by hop, and say why any hop fails. Exit 3 if one does."""
    from provisioning.chain.verify import render_table
    from provisioning.chain.verify import verify as run

    printer = Printer()
    loaded, cloud = _load(printer, config)
    if as_host:
        from provisioning.sandbox.envvars import env_vars

        info = _sandbox_info(printer, state)
        if as_host not in info["hosts"]:
            _fail(printer, f"--as: no host {as_host!r}; hosts: {', '.join(info['hosts'])}")
        os.environ.update(env_vars(info, as_host))
    ids = kit_app_ids(kits)
    for pair in app_id or []:
        key, _, value = pair.partition("=")
        if not value:
            _fail(printer, f"--app: expected KEY=APPID, got {pair!r}")
        ids[key] = value
    credential = None
    if read_home:
        from provisioning.core.clients import admin_credential

        credential = admin_credential(cloud, loaded.config.home.tenant_id)
    report = run(
        loaded,
        cloud,
        customers=list(customer) if customer else None,
        probe=probe,
        home_credential=credential,
        identity=identity,
        app_ids=ids or None,
        host=as_host,
        kit_dir=str(kits),
        on_step=lambda row: printer.progress(f"{row.customer}: {row.step}"),
    )
    printer.clear_progress()
    if output is Fmt.json:
        printer.line(report.dumps())
    else:
        printer.line(render_table(report))
    if not report.ok:
        raise typer.Exit(exitcodes.VERIFY_FAILED)


# ---- kits and Bicep ------------------------------------------------------------------


@app.command()
def kit(
    config: ConfigOpt = Path("xtenant.yaml"),
    customer: CustomerOpt = None,
    out: Annotated[
        Path, typer.Option("--out", help="Output folder (one subfolder per customer).")
    ] = Path("kits"),
) -> None:
    """Render each customer's onboarding kit (page, scripts, Bicep, kit.json) and the landing page.

    Reads the home app ids and identity ids from Azure; nothing is written there.
    """
    from provisioning.core.runner import home_facts
    from provisioning.kit.render import render_all

    printer = Printer()
    loaded, cloud = _load(printer, config)
    names = list(customer) if customer else None
    if names:
        known = {c.name for c in loaded.config.customers}
        for n in names:
            if n not in known:
                _fail(printer, f"--customer: no customer {n!r} in {config}")
    facts, problems = home_facts(loaded, cloud)
    for p in problems:
        printer.error(p)
    wanted = {c.app for c in loaded.config.customers if names is None or c.name in names}
    missing = sorted(k for k in wanted if k not in facts.apps)
    if missing or problems:
        _fail(
            printer,
            f"app(s) {', '.join(missing) or '?'} not found in the home tenant: run "
            f"`xtenant apply -c {config}` first (the kit needs each app's appId)",
        )
    written = render_all(
        loaded.config,
        cloud,
        out,
        app_ids={k: v["app_id"] for k, v in facts.apps.items()},
        identities=facts.identities,
        customers=names,
    )
    for name, files in written.items():
        printer.line(f"{out / name}/: {len(files)} files")


bicep_app = typer.Typer(
    help="Bicep for teams that deploy the home side with Bicep.", no_args_is_help=True
)
app.add_typer(bicep_app, name="bicep")


@bicep_app.command("params")
def bicep_params(
    config: ConfigOpt = Path("xtenant.yaml"),
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
) -> None:
    """Render bicep/home.bicep's parameter file from the configuration."""
    from provisioning.home.bicep_params import home_parameter_warnings, render_home_parameters

    printer = Printer()
    loaded, cloud = _load(printer, config)
    for w in home_parameter_warnings(loaded.config, cloud):
        printer.err.write(f"warning: {w}\n")
    text = render_home_parameters(loaded.config, cloud)
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        out.write_text(text)
        printer.summary(f"wrote {out}", ok=True)


# ---- CI ---------------------------------------------------------------------------------

ci_app = typer.Typer(help="CI pipelines for the declared customer list.", no_args_is_help=True)
app.add_typer(ci_app, name="ci")


@ci_app.command("init")
def ci_init(
    kind: Annotated[str, typer.Argument(help="github or azure-devops")],
    config: ConfigOpt = Path("xtenant.yaml"),
    out: Annotated[Path, typer.Option("--out", help="Repository root.")] = Path("."),
    shards: Annotated[
        int | None, typer.Option("--shards", min=1, max=256, help="Nightly matrix size.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing pipeline file.")
    ] = False,
    output: OutputOpt = Fmt.table,
) -> None:
    """Write a secret-less pipeline (plan on PR, apply on main, nightly status) and print
    the exact rights its identities need."""
    from provisioning.ci.workflows import (
        CI_KINDS,
        OUTPUTS,
        config_path_for,
        format_permissions,
        pipeline_permissions,
        render_ci,
    )

    printer = Printer()
    if kind not in CI_KINDS:
        _fail(printer, f"expected one of {', '.join(CI_KINDS)}, got {kind!r}")
    loaded, cloud = _load(printer, config)
    if (out / OUTPUTS[kind]).exists() and not force:
        _fail(printer, f"{out / OUTPUTS[kind]} exists; use --force to overwrite it")
    try:
        files = render_ci(
            cast(Any, kind),
            loaded.config,
            config_path=config_path_for(config, out),
            out_dir=out,
            config_file=config,
            shards=shards,
        )
    except ValueError as exc:
        _fail(printer, str(exc))
    perms = pipeline_permissions(loaded.config)
    if output is Fmt.json:
        printer.json(
            {"files": [str(f) for f in files], "permissions": [p.to_json() for p in perms]}
        )
        return
    for f in files:
        printer.line(f"wrote {f}")
    printer.line(format_permissions(perms, graph_endpoint=cloud.graph))


# ---- sandbox ----------------------------------------------------------------------------

StateOpt = Annotated[Path, typer.Option("--state", help="Sandbox state directory.")]


@sandbox_app.command("up")
def sandbox_up(
    state: StateOpt = Path(".sandbox"),
    seed: Annotated[
        str, typer.Option("--seed", help="demo or empty (only for a new state).")
    ] = "demo",
    port: Annotated[
        int, typer.Option("--port", help="First of 5 consecutive ports; 0 = any free.")
    ] = 0,
    reset: Annotated[bool, typer.Option("--reset", help="Discard the saved state first.")] = False,
) -> None:
    """Run the sandbox in the foreground; writes STATE/sandbox.json once listening."""
    if seed not in ("demo", "empty"):
        _fail(Printer(), f"--seed: expected demo or empty, got {seed!r}")
    from provisioning.sandbox.__main__ import main as sandbox_main

    args = ["up", "--state", str(state), "--seed", seed, "--port", str(port)]
    raise typer.Exit(sandbox_main([*args, "--reset"] if reset else args))


@sandbox_app.command("info")
def sandbox_info(state: StateOpt = Path(".sandbox"), output: OutputOpt = Fmt.json) -> None:
    """Print STATE/sandbox.json (endpoints, tenants, admins, hosts)."""
    printer = Printer()
    info = _sandbox_info(printer, state)
    if output is Fmt.json:
        printer.json(info)
        return
    printer.kv("authority", info["authority"])
    printer.kv("arm", info["arm"])
    printer.kv("graph", info["graph"])
    for name, t in info["tenants"].items():
        printer.kv(f"tenant {name}", f"{t['tenant_id']} ({t['domain']})")
    for name, h in info["hosts"].items():
        printer.kv(f"host {name}", f"{h['kind']} {h['resource_id']}")


@sandbox_app.command("env")
def sandbox_env(
    state: StateOpt = Path(".sandbox"),
    as_host: Annotated[str | None, typer.Option("--as", help="Act as this sandbox host.")] = None,
    admin: Annotated[
        str | None, typer.Option("--admin", help="Act as this tenant's admin.")
    ] = None,
) -> None:
    """Shell exports that point Azure clients (and xtenant) at the sandbox."""
    import shlex

    from provisioning.sandbox.envvars import env_vars

    printer = Printer()
    info = _sandbox_info(printer, state)
    if as_host and as_host not in info["hosts"]:
        _fail(printer, f"--as: no host {as_host!r}; hosts: {', '.join(info['hosts'])}")
    if admin and admin not in info["tenants"]:
        _fail(printer, f"--admin: no tenant {admin!r}; tenants: {', '.join(info['tenants'])}")
    for k, v in env_vars(info, as_host, admin).items():
        sys.stdout.write(f"export {k}={shlex.quote(v)}\n")


def _sandbox_info(printer: Printer, state: Path) -> dict:
    f = state / "sandbox.json"
    if not f.exists():
        _fail(printer, f"{f} not found: start it with `xtenant sandbox up --state {state}`")
    return json.loads(f.read_text())


@app.command()
def demo(
    state: StateOpt = Path(".sandbox-demo"),
    config: ConfigOpt = Path("examples/sandbox-dir.yaml"),
) -> None:
    """Start a sandbox, validate the demo configuration, and show what the chain will use."""
    from provisioning.cli.demo import run_demo

    raise typer.Exit(run_demo(Printer(), state=state, config=config, cloud=STATE.cloud))


def main() -> None:
    from provisioning.core.errors import XtenantError

    try:
        app()
    except XtenantError as exc:  # one line, the address and the fix; never a traceback
        Printer().error(str(exc))
        sys.exit(exitcodes.ERROR)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)


if __name__ == "__main__":
    os.environ.setdefault("COLUMNS", "100")
    main()
