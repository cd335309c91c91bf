"""The ``xtenant`` command line: one module per command group, ``app.py`` holds the typer
app and the global options. Thin: it parses, calls the library and renders."""


def main() -> None:
    """Console-script entry point (``xtenant``)."""
    from provisioning.cli.app import main as run

    run()
