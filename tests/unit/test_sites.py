"""A SharePoint site named by URL or by id: parsed the way a scope is (what is checked is
byte-for-byte what is addressed), and its Graph address escaped exactly once."""

from __future__ import annotations

import pytest

from provisioning.core import sites

ID = "fabrikam.sharepoint.com,0f0e0d0c-0b0a-4908-8706-050403020100,1f1e1d1c-1b1a-4918-8716-151413121110"


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (
            "https://fabrikam.sharepoint.com/sites/Marketing",
            "sites/fabrikam.sharepoint.com:/sites/Marketing",
        ),
        (
            "https://Fabrikam.SharePoint.com/sites/Marketing/",
            "sites/fabrikam.sharepoint.com:/sites/Marketing",
        ),
        (
            "https://fabrikam.sharepoint.com/teams/Q%26A%20Team",
            "sites/fabrikam.sharepoint.com:/teams/Q%26A%20Team",
        ),
        (
            "https://fabrikam.sharepoint.com/sites/It's$(x)",
            "sites/fabrikam.sharepoint.com:/sites/It%27s%24%28x%29",
        ),
        ("https://fabrikam.sharepoint.com", "sites/fabrikam.sharepoint.com"),
        (ID, f"sites/{ID}"),
        (ID.upper().replace("SHAREPOINT", "sharepoint"), f"sites/{ID}"),
    ],
)
def test_graph_path(value: str, path: str) -> None:
    assert sites.parse(value).graph_path == path


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("http://fabrikam.sharepoint.com/sites/A", "https"),
        ("https://user@fabrikam.sharepoint.com/sites/A", "user information"),
        ("https://fabrikam.sharepoint.com:8443/sites/A", "port"),
        ("https://fabrikam.sharepoint.com/sites/A?x=1", "query"),
        ("https://fabrikam.sharepoint.com/sites/A#top", "fragment"),
        ("https://fabrikam.sharepoint.com/sites/../A", "'..'"),
        ("https://fabrikam.sharepoint.com/sites//A", "empty"),
        ("https://fabrikam.sharepoint.com/sites/%2e%2e/A", "'..'"),
        ("https://fabrikam.sharepoint.com/sites/A%2FB", "encoded"),
        ("https://fabrikam.sharepoint.com/sites/A%5cB", "encoded"),
        ("https://fabrikam.sharepoint.com/sites/A\\B", "backslash"),
        ("https://fabrikam.sharepoint.com/sites/A:B", "':'"),
        ("https://fabrikam.sharepoint.com/sites/A%3AB", "':'"),
        ("https://fabrikam.sharepoint.com/sites/A B", "white-space"),
        ("https://fabrikam.sharepoint.com/sites/A\u202eB", "control"),
        ("https://fabrikam.sharepoint.com/sites/A%0aB", "control"),
        ("https://fabrikam/sites/A", "host"),
        (" https://fabrikam.sharepoint.com/sites/A", "white space"),
        ("fabrikam.sharepoint.com,not-a-guid,x", "https"),
        ("", "empty"),
    ],
)
def test_refused(value: str, why: str) -> None:
    with pytest.raises(sites.SiteError, match=why.replace("(", r"\(")):
        sites.parse(value)


def test_one_site_two_spellings() -> None:
    a = sites.parse("https://fabrikam.sharepoint.com/sites/Marketing")
    b = sites.parse("https://FABRIKAM.sharepoint.com/sites/marketing/")
    assert a.key == b.key and a.label == "Marketing"
    assert sites.parse(ID).label == "fabrikam.sharepoint.com"
    assert str(sites.parse("https://fabrikam.sharepoint.com/sites/It's")) == (
        "https://fabrikam.sharepoint.com/sites/It%27s"
    )
    assert sites.try_parse("nope") is None
