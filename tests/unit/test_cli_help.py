"""Help that tells the truth: every option of every command says what it does, with a
placeholder a person reads (FILE, DIR, N, NAME, [table|json]), never a Python type."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

import typer
import typer.main

from provisioning.cli.app import app

# typer's type placeholders (<bool>, <str>, <int range>, <list[str]>, <a|b>); help prose
# writes GUID, not <guid>, so the whole page is checked
PLACEHOLDER = re.compile(r"<[\w\[\]| .-]+>")


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


def _help_problems(root: Any) -> list[str]:
    """What is wrong with the help of ``root`` and every command under it."""
    problems = []
    for path, command in _walk(root):
        where = " ".join(("xtenant", *path))
        ctx = typer.Context(command, info_name=where)
        for param in command.get_params(ctx):
            if not (getattr(param, "help", None) or "").strip():
                problems.append(f"{where}: {param.name} has no help text")
        problems += [f"{where}: shows {p}" for p in PLACEHOLDER.findall(command.get_help(ctx))]
    return problems


def test_every_command_and_option_has_honest_help() -> None:
    root = typer.main.get_command(app)
    paths = [" ".join(p) for p, _ in _walk(root)]
    # the walk reaches nested groups (a check of nothing would pass)
    assert {"plan", "customer plan", "ci init", "sandbox up", "bicep params"} <= set(paths)
    assert _help_problems(root) == []


def test_the_help_check_finds_a_bare_option_and_a_type_placeholder() -> None:
    bad = typer.Typer(rich_markup_mode=None)

    @bad.command()
    def one(
        count: Annotated[int, typer.Option("--count")] = 1,
        name: Annotated[str, typer.Option("--name", help="A name.")] = "x",
    ) -> None:
        """A command."""

    @bad.command()
    def two() -> None:
        """Another."""

    problems = _help_problems(typer.main.get_command(bad))
    assert any("count has no help text" in p for p in problems), problems
    assert any("<int>" in p for p in problems), problems
    assert any("<str>" in p for p in problems), problems


def test_plan_and_apply_no_longer_offer_customer() -> None:
    root = typer.main.get_command(app)
    for name in ("plan", "apply"):
        opts = {o for p in root.commands[name].params for o in p.opts}
        assert "--customer" not in opts and "--config" in opts


def test_global_options_are_offered_by_every_command() -> None:
    for path, command in _walk(typer.main.get_command(app)):
        if getattr(command, "commands", None):
            continue  # a group: its commands carry them
        opts = {o for p in command.params for o in p.opts}
        assert {"--cloud", "-v", "--verbose", "--debug"} <= opts, path
