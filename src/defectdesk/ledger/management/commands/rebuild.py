"""`defectdesk rebuild`: recompute every projection from the ledger."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from defectdesk.ledger.rebuild import ledger_rebuild


class Command(BaseCommand):
    help = "Recompute every projection (orders, defects, metrics) from the event ledger."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        out = self.stderr

        def progress(orders: int) -> None:
            # Progress, not an error: without the error colour of stderr.
            out.write(f"\r{orders:,} order{'' if orders == 1 else 's'}", ending="", style_func=str)
            out.flush()

        orders = ledger_rebuild(progress if self.stderr.isatty() else None)
        if self.stderr.isatty():
            out.write("", style_func=str)
        self.stdout.write(f"rebuilt {orders:,} orders in {time.monotonic() - started:.1f}s")
