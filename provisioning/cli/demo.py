"""``xtenant demo``: a sandbox Azure and the whole chain on it, end to end, in one command.

The demo is the one place besides ``xtenant sandbox`` allowed to start the sandbox; every
step after that talks to it as to any cloud, through the cloud file it writes and the
environment variables an admin or a workload would have.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from provisioning.cli import exitcodes
from provisioning.cli.output import Printer
from provisioning.core.plan import plural

ADMIN_VARS = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID")
HOSTS_CONFIG = "sandbox-hosts.yaml"
"""The demo world's hosts beyond VMs (a Functions app, an Automation account's own
identity), next to the configuration the demo is given."""


@contextmanager
def environment(values: dict[str, str], drop: tuple[str, ...] = ()) -> Iterator[None]:
    """Run a step with exactly these variables (an admin's shell, a host's environment)."""
    saved = {k: os.environ.get(k) for k in (*values, *drop)}
    for k in drop:
        os.environ.pop(k, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class _Form(HTMLParser):
    """The first form of a page: its action and its fields (what a browser would post)."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.buttons: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
        elif tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "button" and a.get("name"):
            self.buttons[a.get("value", "")] = a["name"]


def click_through_consent(url: str, ca_bundle: str | None) -> str:
    """Open an admin-consent link and press Accept, as the tenant's admin would in a
    browser; return where Entra redirects to."""
    import ssl
    from urllib.parse import urljoin

    import httpx

    verify: Any = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
    with httpx.Client(verify=verify, follow_redirects=False, timeout=30) as http:
        page = http.get(url)
        page.raise_for_status()
        form = _Form()
        form.feed(page.text)
        if form.action is None or "accept" not in form.buttons:
            raise RuntimeError("the consent page has no Accept button")
        data = {**form.fields, form.buttons["accept"]: "accept"}
        resp = http.post(urljoin(str(page.url), form.action), data=data)
        if resp.status_code not in (302, 303):
            raise RuntimeError(f"consent was not accepted (HTTP {resp.status_code})")
        return resp.headers["location"]


def customer_sent_values(info: dict[str, Any]) -> dict[str, str]:
    """Litware's admin looks up their DCE endpoint and DCR immutableId (in the portal, or
    with az) and sends them to the provider; here that admin reads them through ARM."""
    import ssl

    import httpx
    from azure.identity import ClientSecretCredential

    t = info["tenants"]["litware"]
    cred = ClientSecretCredential(
        t["tenant_id"],
        t["admin"]["client_id"],
        t["admin"]["client_secret"],
        authority=info["authority"],
        disable_instance_discovery=True,
        connection_verify=info["ca_bundle"],
    )
    headers = {
        "Authorization": f"Bearer {cred.get_token('https://management.azure.com/.default').token}"
    }
    with httpx.Client(
        verify=ssl.create_default_context(cafile=info["ca_bundle"]), headers=headers
    ) as http:
        dcr = http.get(
            f"{info['arm']}{t['resources']['dcr']}", params={"api-version": "2022-06-01"}
        ).json()
        dce = http.get(
            f"{info['arm']}{t['resources']['dce']}", params={"api-version": "2022-06-01"}
        ).json()
    return {
        "LITWARE_DCE_ENDPOINT": dce["properties"]["logsIngestion"]["endpoint"],
        "LITWARE_DCR_ID": dcr["properties"]["immutableId"],
    }


def run_demo(printer: Printer, *, state: Path, config: Path, cloud: str | None) -> int:
    from provisioning.sandbox import Sandbox

    started = time.monotonic()
    printer.line(f"== 1. a local Azure: the sandbox (state in {state}, fresh from the demo seed)")
    sb = Sandbox.start(state, seed="demo", reset=True)
    try:
        return _chain(printer, sb, config)
    finally:
        sb.stop()
        printer.line(f"(demo took {time.monotonic() - started:.1f}s)")


def _chain(printer: Printer, sb: Any, config: Path) -> int:
    from provisioning.config import ConfigError, load_config
    from provisioning.core import clouds
    from provisioning.core.runner import Options, home_plan, home_state

    info = sb.info
    for name, t in info["tenants"].items():
        sub = t["subscription_id"] or "no subscription (Microsoft 365 only)"
        printer.kv(f"  tenant {name}", f"{t['tenant_id']} {t['domain']}, {sub}")
    for name, h in info["hosts"].items():
        printer.kv(f"  host {name}", f"{h['kind']} {h['resource_id']}")
    os.environ.update(sb.env())  # CA bundle + the sandbox cloud, as `sandbox env` exports
    cloud = clouds.load_cloud_file(info["cloud_file"])
    sent = customer_sent_values(info)
    os.environ.update(sent)
    printer.line(f"  Litware sends its DCE endpoint and DCR immutableId: {sent['LITWARE_DCR_ID']}")

    try:
        loaded = load_config(config)
        hosts_loaded = load_config(config.parent / HOSTS_CONFIG)
    except ConfigError as exc:
        for issue in exc.issues:
            printer.issue(issue)
        return exitcodes.ERROR

    printer.line("\n== 2. home tenant (Contoso): plan, then apply, as Contoso's admin")
    with environment(sb.env(admin="contoso")):
        out = _plan_and_apply(printer, loaded, cloud)
        if out is None:
            return exitcodes.ERROR
        for v in out.verified:
            printer.line(f"  verified {v}")
        again = home_plan(loaded, cloud, Options())
        printer.line(f"  re-plan: {again.plan.summary()}")
        home = home_state(loaded, cloud)
        if home.problems:
            printer.error("; ".join(home.problems))
            return exitcodes.ERROR
        from provisioning.kit.model import build_kit
        from provisioning.kit.render import render_all, render_kit

        kits = Path(sb.info["ca_bundle"]).parent.parent / "kits"
        hosts_kits = kits.parent / "kits-hosts"  # its own folder: reconcile reads kits/
        render_all(
            loaded.config,
            cloud,
            kits,
            app_ids=home.app_ids(),
            identities=home.identity_ids(),
        )
        printer.line(
            f"\n== 2b. {HOSTS_CONFIG}: a Functions app and the Automation account's own "
            "(system-assigned) identity, as Contoso's admin"
        )
        for warning in hosts_loaded.warnings:
            printer.issue(warning)
        if _plan_and_apply(printer, hosts_loaded, cloud) is None:
            return exitcodes.ERROR
        hosts_home = home_state(hosts_loaded, cloud)
        if hosts_home.problems:
            printer.error("; ".join(hosts_home.problems))
            return exitcodes.ERROR
        for declared in hosts_loaded.config.customers:
            kit = build_kit(
                hosts_loaded.config,
                cloud,
                declared.name,
                app_id=hosts_home.app_ids()[declared.app],
                home_identities=hosts_home.identity_ids(),
            )
            render_kit(kit, hosts_kits / declared.name)
        printer.line(f"\n== 3. onboarding kits rendered in {kits}/ (one folder per customer)")

    litware = json.loads((kits / "litware" / "kit.json").read_text())
    printer.line("\n== 4. Litware's admin opens the kit, clicks the consent button and accepts")
    with environment(sb.env(admin="litware")):
        landed = click_through_consent(litware["consent_url"], info["ca_bundle"])
        printer.line(f"  Entra redirected to: {landed}")
        printer.line(
            "  then assigns the kit's roles with `xtenant customer apply --kit litware/kit.json`:"
        )
        spec = _customer_apply(printer, kits / "litware" / "kit.json", cloud)
        if spec is None:
            return exitcodes.ERROR

    printer.line(
        "\n== 5. Fabrikam's admin runs `xtenant customer apply --kit fabrikam/kit.json` "
        "(and kits-hosts/fabrikam-reports/kit.json)"
    )
    with environment(sb.env(admin="fabrikam")):
        fspec = _customer_apply(printer, kits / "fabrikam" / "kit.json", cloud)
        rspec = _customer_apply(printer, hosts_kits / "fabrikam-reports" / "kit.json", cloud)
        if fspec is None or rspec is None:
            return exitcodes.ERROR

    printer.line("\n== 6. the workloads, secret-less: no client secret exists anywhere")
    with environment(sb.env(host="vm-vector"), drop=ADMIN_VARS):
        probe = loaded.config.customer("litware").probe
        if probe is None or probe.logs_ingestion is None:
            printer.error(
                "customers[litware].probe.logs_ingestion is needed to ship the demo's logs"
            )
            return exitcodes.ERROR
        _ship_logs(
            printer,
            sb,
            cloud,
            spec,
            home.identities["umi-vector"].client_id,
            probe.logs_ingestion,
        )
    with environment(sb.env(host="aa-runbooks"), drop=ADMIN_VARS):
        if not _read_sites(printer, cloud, fspec, home.identities["umi-runbooks"].client_id, info):
            return exitcodes.VERIFY_FAILED
        # the account's own system-assigned identity: the endpoint's default, no id named
        _search_sites(printer, cloud, rspec, None, "aa-runbooks (system-assigned identity)")
    with environment(sb.env(host="func-reports"), drop=ADMIN_VARS):
        reports_id = hosts_home.identities["umi-reports"].client_id
        _search_sites(printer, cloud, rspec, reports_id, "func-reports")
    printer.line("\n== 7. `xtenant verify --probe`, on each host, for its customers")
    from provisioning.chain.verify import render_table, verify

    ok = True
    reports = []
    # a system-assigned identity is the one its host's endpoint gives when none is named
    chosen = {
        n: v.client_id
        for state in (home, hosts_home)
        for n, v in state.identities.items()
        if not v.system_assigned_of
    }
    for world, state, host, customer, ids in (
        (loaded, home, "vm-vector", "litware", chosen),
        (loaded, home, "aa-runbooks", "fabrikam", chosen),
        (hosts_loaded, hosts_home, "func-reports", "fabrikam-reports", chosen),
        (hosts_loaded, hosts_home, "aa-runbooks", "fabrikam-reports", {}),
    ):
        with environment(sb.env(host=host), drop=ADMIN_VARS):
            report = verify(
                world,
                cloud,
                customers=[customer],
                probe=True,
                host=host,
                app_ids=state.app_ids(),
                identities=ids,
                kit_dir=str(kits if world is loaded else hosts_kits),
            )
        printer.line(render_table(report))
        ok = ok and report.ok
        if world is loaded:  # status below is the main configuration's
            reports.append(report)
    if not ok:
        return exitcodes.VERIFY_FAILED

    printer.line(
        f"\n== 8. CI's view: `xtenant reconcile` over the customer directory "
        f"({config.parent / (loaded.config.customers_dir or '')})"
    )
    import datetime as dt

    from provisioning.cli.report import render_table as status_table
    from provisioning.reconcile import reconcile
    from provisioning.status import fold_verify

    with environment(sb.env(admin="contoso")):
        status = reconcile(loaded, cloud, kits=kits, plan_only=False)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for report in reports:  # what the hosts' `verify` found, as `status --live` folds it in
        fold_verify(status, report, at=now)
    printer.line(status_table(status))
    if not status.ok or any(c.next != "healthy" for c in status.customers):
        return exitcodes.VERIFY_FAILED
    printer.line(
        "\nThe chain works end to end. Kits, state and the CA bundle stay in "
        f"{Path(info['cloud_file']).parent}/; re-run `make demo` to start over."
    )
    return exitcodes.OK


def _plan_and_apply(printer: Printer, loaded: Any, cloud: Any) -> Any:
    """`xtenant plan` then `apply --yes`, printed; the outcome, or None after the failures."""
    from provisioning.core.plan import render_text
    from provisioning.core.runner import Options, home_apply, home_plan

    planned = home_plan(loaded, cloud, Options())
    printer.line(render_text(planned.plan, summary=planned.summary()))
    out = home_apply(loaded, cloud, Options())
    for f in out.failures:
        printer.error(f"{f.address}: {f.message}")
    return out if out.ok else None


def _customer_apply(printer: Printer, kit: Path, cloud: Any) -> Any:
    """What a customer admin's `xtenant customer apply --kit kit.json` does; the kit, or
    None after printing the failures."""
    from provisioning.core.runner import Options, customer_apply
    from provisioning.kit.cloud import cloud_for
    from provisioning.kit.model import load_kit

    loaded = load_kit(kit)
    res = customer_apply(loaded, cloud_for(loaded, cloud), Options())
    for f in res.failures:
        printer.error(f"{f.address}: {f.message}")
    for c in res.applied:
        printer.line(f"  {c.action.symbol} {c.address}")
    return loaded if res.ok else None


def _ship_logs(
    printer: Printer, sb: Any, cloud: Any, spec: Any, client_id: str, probe: Any
) -> None:
    from azure.monitor.ingestion import LogsIngestionClient

    from provisioning.chain import CrossTenantCredential
    from provisioning.chain.claims import summary

    cred = CrossTenantCredential(
        spec.app_id, spec.customer.tenant, cloud=cloud, managed_identity=client_id
    )
    mi = cred.assertion()
    printer.line("  vm-vector's managed-identity token (claims only, signature removed):")
    for k, v in summary(mi).items():
        printer.line(f"    {k}: {v}")
    client = LogsIngestionClient(probe.endpoint, credential=cred)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    client.upload(
        rule_id=probe.dcr_immutable_id,
        stream_name=probe.stream,
        logs=[
            {"TimeGenerated": now, "message": f"demo line {i}", "host": "vm-vector"}
            for i in range(3)
        ],
    )
    records = sb.ingested(probe.stream)
    printer.line(
        f"  Vector on vm-vector shipped 3 log lines into Litware's DCR as Litware's tenant "
        f"({plural(len(records), 'record')} now in the customer's {probe.stream} stream)"
    )


def _read_sites(printer: Printer, cloud: Any, spec: Any, client_id: str, info: Any) -> bool:
    """The runbook reads the site Fabrikam granted (Sites.Selected + a site permission) and
    is refused any other; True when both hold."""
    import httpx

    from provisioning.chain import CrossTenantCredential

    cred = CrossTenantCredential(
        spec.app_id, spec.customer.tenant, cloud=cloud, managed_identity=client_id
    )
    token = cred.get_token(cloud.graph_scope).token
    granted = [p.ref for p in spec.site_permissions]
    resources = info["tenants"]["fabrikam"].get("resources", {})
    others = [(k, sid) for k, sid in sorted(resources.items()) if k.startswith("site-")]
    ok = True
    with httpx.Client(
        verify=cloud.ca_bundle or True, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        read_ids = set()
        for ref in granted:
            r = http.get(f"{cloud.graph_v1}/{ref.graph_path}")
            ok = ok and r.status_code == 200
            if r.status_code == 200:
                read_ids.add(r.json()["id"])
                lists = http.get(f"{cloud.graph_v1}/sites/{r.json()['id']}/lists").json()
                names = ", ".join(x["displayName"] for x in lists.get("value", []))
                printer.line(
                    f"  the runbook on aa-runbooks read its granted site {ref}: "
                    f"{r.status_code}, lists: {names}"
                )
            else:
                printer.error(f"the granted site {ref} answered {r.status_code}")
        for key, sid in others:
            if sid in read_ids:
                continue
            r = http.get(f"{cloud.graph_v1}/sites/{sid}")
            code = r.json().get("error", {}).get("code", "") if r.content else ""
            printer.line(
                f"  ... and is refused Fabrikam's {key.removeprefix('site-')} site, never "
                f"granted: {r.status_code} {code}"
            )
            ok = ok and r.status_code == 403
            break
    return ok


def _search_sites(
    printer: Printer, cloud: Any, spec: Any, client_id: str | None, where: str
) -> None:
    """A workload with the tenant-wide Sites.Read.All lists Fabrikam's sites (the hosts'
    demo app: a Functions app and the Automation account's system-assigned identity)."""
    import httpx

    from provisioning.chain import CrossTenantCredential

    cred = CrossTenantCredential(
        spec.app_id, spec.customer.tenant, cloud=cloud, managed_identity=client_id
    )
    token = cred.get_token(cloud.graph_scope).token
    r = httpx.get(
        f"{cloud.graph_v1}/sites",
        params={"search": "*"},
        headers={"Authorization": f"Bearer {token}"},
        verify=cloud.ca_bundle or True,
        timeout=30,
    )
    r.raise_for_status()
    names = ", ".join(s.get("displayName", s.get("name", "?")) for s in r.json().get("value", []))
    printer.line(
        f"  the workload on {where} read Fabrikam's SharePoint sites via Graph as app "
        f"{spec.home.app.display_name}: {names}"
    )
