"""``verify()``: resolve the options, read the home state, walk each customer's chain step
by step (MI token → home exchange → exchange per resource → probes) and return the report."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from typing import Any

from provisioning.config import App, Config, Customer, Loaded
from provisioning.core.clouds import Cloud
from provisioning.core.hosts import host_label, is_host

from ..diagnose import SECRET_VARIABLES, ErrorInfo, diagnose
from .home import read_home_state
from .probes import run_probes
from .report import Row, VerifyReport
from .session import Chain, Session, VerifyOptions, find_identity
from .steps import cross_tenant, exchange, mi_token, needed_resources


def verify(
    loaded_config: Loaded | Config,
    cloud: Cloud,
    *,
    customers: list[str] | None = None,
    probe: bool = False,
    home_credential: Any = None,
    identity: str | None = None,
    identities: Mapping[str, str] | None = None,
    app_ids: Mapping[str, str] | None = None,
    host: str | None = None,
    kit_dir: str = "kits",
    on_step: Callable[[Row], None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> VerifyReport:
    """Walk the chain for each customer (all by default) from this host; never raises for
    a failing hop — every failure is a row with its diagnosis.

    ``home_credential``: an azure-core credential (sync or async) of a home-tenant admin
    that can read the apps and their FICs (Graph) and the identities (ARM). Without it,
    app ids come from ``app_ids`` (app key -> appId) or ``adopt_app_id``, the identity
    from ``identity`` (one client id / ``object_id:<guid>`` / resource id for every
    customer) or ``identities`` (identity name -> the same), else the host's default
    identity, and the assertion is checked against the config only.
    ``host``: this host's name as in ``attach_to`` (default: the machine's host name).
    ``on_step`` is called with each row as soon as it is recorded (progress display).
    """
    if isinstance(loaded_config, Loaded):
        config, config_path = loaded_config.config, str(loaded_config.path)
    else:
        config, config_path = loaded_config, None
    chosen = [config.customer(n) for n in customers] if customers else list(config.customers)
    apps: list[App] = []
    for c in chosen:
        a = config.app(c.app)
        if a not in apps:
            apps.append(a)
    options = VerifyOptions(
        config=config,
        cloud=cloud,
        host=host or socket.gethostname(),
        config_path=config_path,
        identity=identity,
        identities=dict(identities or {}),
        app_ids=dict(app_ids or {}),
        probe=probe,
        kit_dir=kit_dir,
        environ=dict(os.environ if environ is None else environ),
        on_step=on_step,
    )
    idents = [i for i in config.home.identities if any(i.name in a.trusts for a in apps)]
    home, notes = read_home_state(config, cloud, home_credential, apps, idents, options.app_ids)
    leaks = [n for n in SECRET_VARIABLES if options.environ.get(n)]
    if leaks:
        notes.append(
            f"{', '.join(leaks)} set on this host: a workload using DefaultAzureCredential "
            "authenticates with that (EnvironmentCredential comes first) instead of its managed "
            "identity; remove it from the workload's environment"
        )
    session = Session(options, home)
    ep = session.endpoint
    report = VerifyReport(
        cloud=cloud.name,
        home_tenant=config.home.tenant_id,
        host={
            "name": options.host,
            "kind": ep.get("host_kind"),
            "endpoint_kind": ep["kind"],
            "endpoint": ep.get("endpoint"),
        },
        probe=probe,
        notes=list(notes),
    )
    try:
        for c in chosen:
            report.customers.append(walk(session, c, explicit=bool(customers)))
    finally:
        session.close()
    report.rows = session.rows
    return report


def walk(session: Session, customer: Customer, *, explicit: bool = False) -> dict[str, Any]:
    """Every step for ``customer``, recorded as rows; returns its entry of the report."""
    app = session.config.app(customer.app)
    away = None if explicit else elsewhere(session, app)
    if away is not None:
        where = " or ".join(away) or "no declared host"
        session.add(
            Row(
                customer.name,
                "mi_token",
                "skipped",
                0.0,
                f"app {app.key} trusts {', '.join(app.trusts)}, which live on {where}, not on "
                f"{session.host}: run verify there (--customer {customer.name})",
            )
        )
        return {
            "name": customer.name,
            "tenant": customer.tenant,
            "app": {"key": app.key, "app_id": session.app_id(app)},
            "identity": {"name": None, "client_id": None, "principal_id": None},
        }
    mi, ident = mi_token(session, customer, app)
    app_id = session.app_id(app)
    info = {
        "name": customer.name,
        "tenant": customer.tenant,
        "app": {"key": app.key, "app_id": app_id},
        "identity": {
            "name": ident,
            "client_id": (mi.claims or {}).get("azp") if mi else None,
            "principal_id": (mi.claims or {}).get("oid") if mi else None,
        },
    }
    chain = Chain(customer, app, ident)
    resources = needed_resources(customer, session.cloud)
    later = ["home_exchange", *(f"exchange:{n}" for n, _ in resources)]
    if mi is None:
        for step in later:
            session.add(Row(customer.name, step, "skipped", 0.0, "no managed-identity token"))
        return info
    if not app_id:
        ctx = session.context(chain, step="home_exchange", where="home")
        session.add(
            Row(
                customer.name,
                "home_exchange",
                "failed",
                0.0,
                f"the appId of app {app.key} is not known",
                diagnosis=diagnose(ErrorInfo("APP_ID_UNKNOWN", None, "", None), ctx),
            )
        )
        for step in later[1:]:
            session.add(
                Row(customer.name, step, "skipped", 0.0, "the app's client id is not known")
            )
        return info
    home = session.home
    home_cred = cross_tenant(session, app_id, home, mi)
    exchange(
        session,
        chain,
        home_cred,
        "home_exchange",
        session.cloud.arm_scope,
        where="home",
        tenant=home,
    )
    cred = cross_tenant(session, app_id, customer.tenant, mi)
    got: dict[str, dict[str, Any] | None] = {}
    for name, scope in resources:
        got[name] = exchange(
            session,
            chain,
            cred,
            f"exchange:{name}",
            scope,
            where="customer",
            tenant=customer.tenant,
        )
    if session.options.probe:
        run_probes(session, chain, cred, got)
    return info


def elsewhere(session: Session, app: App) -> list[str] | None:
    """The hosts the app's identities live on, when this host is positively another
    declared host and no identity was chosen by hand; ``None`` otherwise."""
    opts = session.options
    declared = [h for i in session.config.home.identities for h in i.host_ids]
    if not any(is_host(h, session.host) for h in declared):
        return None
    if opts.identity or any(n in opts.identities for n in app.trusts):
        return None
    trusted = [
        h
        for n in app.trusts
        if (i := find_identity(session.config, n)) is not None
        for h in i.host_ids
    ]
    return (
        None if any(is_host(h, session.host) for h in trusted) else list(map(host_label, trusted))
    )
