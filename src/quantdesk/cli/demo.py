"""``quantdesk demo``: the main job end to end on the offline sample."""

from __future__ import annotations

from quantdesk.cli.common import console, handle_errors, open_services, table


@handle_errors
def demo() -> None:
    """Load the offline sample, then print what is stored."""
    with open_services() as services:
        console.rule("[bold]quantdesk demo")
        console.print(f"database: {services.database!r}")
        with console.status("loading the offline sample…"):
            reports = services.data.load_sample()
        rows = [
            [r.source, f"{r.rows_read:,}", f"{r.inserted:,}", f"{r.unchanged:,}", r.symbols]
            for r in reports
        ]
        console.print(
            table(
                "1. offline sample",
                ["source", "rows", "inserted", "unchanged", "symbols"],
                rows,
                right={"rows", "inserted", "unchanged", "symbols"},
            )
        )
        status = services.data.status()
        console.print(
            table("2. data status", ["", "value"], [[k, v] for k, v in status.to_dict().items()])
        )
