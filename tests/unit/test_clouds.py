from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from provisioning.core import clouds


def test_builtin_profiles_have_their_exchange_audience() -> None:
    assert clouds.resolve("public").exchange_audience == "api://AzureADTokenExchange"
    assert clouds.resolve("usgov").exchange_audience == "api://AzureADTokenExchangeUSGov"
    assert clouds.resolve("CHINA").exchange_audience == "api://AzureADTokenExchangeChina"


def test_fic_issuer_and_token_endpoint() -> None:
    c = clouds.PUBLIC
    tid = "8f3c2a10-4d5e-4f60-9a7b-0c0270500001"
    assert c.fic_issuer(tid) == f"https://login.microsoftonline.com/{tid}/v2.0"
    assert c.token_endpoint("litware.onmicrosoft.com") == (
        "https://login.microsoftonline.com/litware.onmicrosoft.com/oauth2/v2.0/token"
    )
    assert c.exchange_scope == "api://AzureADTokenExchange/.default"
    assert c.arm_scope == "https://management.azure.com/.default"
    assert clouds.USGOV.arm_scope == "https://management.usgovcloudapi.net/.default"


def test_admin_consent_url_v2_with_graph_permissions() -> None:
    url = clouds.PUBLIC.admin_consent_url(
        "litware.onmicrosoft.com",
        "app-id",
        "https://x.example/cb",
        graph_permissions=True,
        state="s1",
    )
    u = urlparse(url)
    assert u.path == "/litware.onmicrosoft.com/v2.0/adminconsent"
    q = parse_qs(u.query)
    assert q == {
        "client_id": ["app-id"],
        "redirect_uri": ["https://x.example/cb"],
        "scope": ["https://graph.microsoft.com/.default"],
        "state": ["s1"],
    }


def test_admin_consent_url_v1_without_graph_permissions() -> None:
    url = clouds.PUBLIC.admin_consent_url("t", "a", "https://x.example/cb", graph_permissions=False)
    u = urlparse(url)
    assert u.path == "/t/adminconsent" and "scope" not in parse_qs(u.query)


def test_custom_cloud_file(tmp_path: Path) -> None:
    f = tmp_path / "cloud.json"
    f.write_text(
        json.dumps(
            {
                "name": "lab",
                "authority": "https://127.0.0.1:9443/",
                "arm": "https://127.0.0.1:9444",
                "graph": "https://127.0.0.1:9445",
                "exchange_audience": "api://AzureADTokenExchange",
                "ca_bundle": "tls/ca.pem",
            }
        )
    )
    c = clouds.resolve(str(f))
    assert c.custom and c.name == "lab"
    assert c.authority == "https://127.0.0.1:9443"  # trailing slash dropped
    assert c.authority_host == "127.0.0.1:9443"
    assert c.ca_bundle == str(tmp_path / "tls" / "ca.pem")
    assert c.graph_v1 == "https://127.0.0.1:9445/v1.0"
    # audiences stay the production ones unless the file says otherwise
    assert c.graph_scope == "https://graph.microsoft.com/.default"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"authority": "https://a"}', "missing arm, graph, exchange_audience"),
        (
            '{"authority": "http://a", "arm": "https://b", "graph": "https://c", "exchange_audience": "x"}',
            "authority must be an https URL",
        ),
    ],
)
def test_bad_cloud_files(tmp_path: Path, content: str, fragment: str) -> None:
    f = tmp_path / "c.json"
    f.write_text(content)
    with pytest.raises(clouds.CloudError, match=fragment):
        clouds.resolve(str(f))


def test_unknown_cloud_name() -> None:
    with pytest.raises(clouds.CloudError, match="expected one of public, usgov, china"):
        clouds.resolve("mars")


def test_env_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XTENANT_CLOUD", "usgov")
    assert clouds.resolve(None).name == "usgov"
