"""The ``quantdesk`` command line (Typer + Rich). Commands call services only."""
