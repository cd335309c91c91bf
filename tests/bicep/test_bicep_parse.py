"""The Bicep test utilities themselves: the tree-sitter reader and the reference checks."""

from __future__ import annotations

import pytest
from bicep_parse import parse_bicep
from bicep_reference import arm_type, check_body, graph_type

SAMPLE = """\
targetScope = 'subscription'
extension microsoftGraphV1
extension 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/beta:1.0.0' as graphBeta

type spec = {
  name: string
  kind: 'a' | 'b'
  tags: { *: string }?
}

@description('the things')
param things spec[]
param opt string = 'x'
param maybe int?

var note = '''
extension notAStatement
'''

resource parentRes 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: 'u'
  resource child 'federatedIdentityCredentials@v1.0' = {
    name: '${parentRes.uniqueName}/c'
  }
}

resource other 'Microsoft.Foo/bars/bazs@2020-01-01' = {
  parent: existingBar
  name: 'z'
}

resource existingBar 'Microsoft.Foo/bars@2020-01-01' existing = {
  name: 'bar'
}

module m 'modules/x.bicep' = [for t in things: if (t.kind == 'a') {
  name: t.name
  params: { n: t.name }
}]

output o array = [for t in things: t.name]
"""


def test_reads_declarations() -> None:
    f = parse_bicep(SAMPLE)
    assert f.errors == []
    assert f.target_scope == "subscription"
    assert [(e.name, e.alias) for e in f.extensions] == [
        ("microsoftGraphV1", None),
        ("br:mcr.microsoft.com/bicep/extensions/microsoftgraph/beta:1.0.0", "graphBeta"),
    ]
    assert set(f.params) == {"things", "opt", "maybe"}
    assert f.params["things"].required and f.params["things"].type_text == "spec[]"
    assert f.params["things"].description == "the things"
    assert not f.params["opt"].required and not f.params["maybe"].required
    child = f.resource("child")
    assert child.type == "Microsoft.Graph/applications/federatedIdentityCredentials"
    assert child.api_version == "v1.0" and child.parent == "parentRes" and child.nested
    assert child.name == "'${parentRes.uniqueName}/c'"
    other = f.resource("other")
    assert other.type == "Microsoft.Foo/bars/bazs" and other.parent == "existingBar"
    assert f.resource("existingBar").existing and not other.existing
    (m,) = f.modules
    assert m.loop and m.condition and m.path == "modules/x.bicep" and set(m.params) == {"n"}
    assert f.outputs["o"].loop
    assert "note" in f.variables


def test_reports_syntax_errors_with_lines() -> None:
    f = parse_bicep("param a string\nresource x 'A.B/c@1' = {\n  name: 'x'\n\nparam b = \n")
    assert f.errors, "an unclosed object must be an error"
    assert all(e.line >= 2 for e in f.errors)
    g = parse_bicep("extension 'unterminated\nparam a string\n")
    assert [e.line for e in g.errors] == [1]
    assert "extension" in g.errors[0].message


def test_reports_types_the_grammar_misreads() -> None:
    f = parse_bicep("type t = {\n  tags: { *: string }?\n  kind: string\n}\n")
    assert [e.line for e in f.errors] == [2], f.errors
    assert "type belongs" in f.errors[0].message


def test_check_value_follows_types() -> None:
    f = parse_bicep(SAMPLE)
    assert f.check_value("things", [{"name": "n", "kind": "a", "tags": {"k": "v"}}]) == []
    problems = f.check_value("things", [{"name": 1, "kind": "c", "tags": {"k": 2}, "x": 0}])
    assert "things[0].name: expected string, got int" in problems
    assert any(p.startswith("things[0].kind: 'c' is none of") for p in problems)
    assert "things[0].tags.k: expected string, got int" in problems
    assert "things[0].x: not a property of the declared type" in problems
    assert f.check_value("maybe", None) == []
    assert f.check_value("nope", 1) == ["nope: not a parameter of the template"]


def test_arm_lookup_explains_what_is_missing() -> None:
    t = arm_type("Microsoft.ManagedIdentity/userAssignedIdentities", "2023-01-31")
    assert t.path.endswith("/userAssignedIdentities/{resourceName}")
    assert {"location", "tags", "properties"} <= set(t.body.property_names())
    with pytest.raises(LookupError, match=r"versions there: 2023-01-31"):
        arm_type("Microsoft.ManagedIdentity/userAssignedIdentities", "2018-11-30")
    with pytest.raises(LookupError, match=r"provider Microsoft\.Nope is not in"):
        arm_type("Microsoft.Nope/things", "2020-01-01")
    with pytest.raises(LookupError, match=r"no PUT path"):
        arm_type("Microsoft.ManagedIdentity/notIdentities", "2023-01-31")
    rg = arm_type("Microsoft.Resources/resourceGroups", "2024-03-01")
    assert rg.path.lower().endswith("/resourcegroups/{resourcegroupname}")
    ra = arm_type("Microsoft.Authorization/roleAssignments", "2022-04-01")
    assert "properties" in ra.body.property_names()


def test_body_checks_catch_misspelled_and_read_only_properties() -> None:
    f = parse_bicep(
        "resource i 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {\n"
        "  name: 'x'\n  location: 'westus2'\n  Tags: {}\n  properties: { principalId: 'p' }\n}\n"
        "resource a 'Microsoft.Graph/applications@v1.0' = {\n"
        "  uniqueName: 'u'\n  web: { redirectUri: ['x'] }\n  tags: 'one'\n"
        "  requiredResourceAccess: [ { resourceAppId: 'g', resourceAccess: [ { id: 'r', kind: 'Role' } ] } ]\n}\n"
    )
    assert f.errors == []
    arm = check_body(f.resource("i").body, arm_type(f.resource("i").type, "2023-01-31").body)
    assert any("Tags: not a property" in p and "did you mean 'tags'" in p for p in arm), arm
    assert any("properties: read-only" in p for p in arm), arm
    g = check_body(f.resource("a").body, graph_type("Microsoft.Graph/applications", "v1.0"))
    assert any("web.redirectUri: not a property" in p for p in g), g
    assert any("requiredResourceAccess[].resourceAccess[].kind: not a property" in p for p in g), g
    assert not any("tags" in p for p in g), "a string expression cannot be judged statically"
    with pytest.raises(LookupError, match=r"v1\.0"):
        graph_type("Microsoft.Graph/applications", "beta")
    with pytest.raises(LookupError, match="no navigation property"):
        graph_type("Microsoft.Graph/applications/owners2", "v1.0")
