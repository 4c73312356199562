"""`defectdesk generate`: a realistic, deterministic synthetic ledger as NDJSON."""

from __future__ import annotations

import time
from argparse import ArgumentTypeError
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from defectdesk.ledger.generator import (
    SIZES,
    default_currency,
    default_timezone,
    demo_profiles,
    generate_events,
    generate_marketplaces_events,
    seller_profiles,
    write_ndjson,
)


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ArgumentTypeError(f"must be a whole number, not {value!r}") from None
    if number < 0:
        raise ArgumentTypeError(f"must be zero or more, not {value!r}")
    return number


def _positive(value: str) -> int:
    number = _count(value)
    if number < 1:
        raise ArgumentTypeError(f"must be at least 1, not {value!r}")
    return number


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"must be a date such as 2026-10-01, not {value!r}") from None


class _TextSink:
    """Bytes written to a text stream, such as the StringIO a test hands to call_command."""

    def __init__(self, write: Callable[[str], object]) -> None:
        self._write = write

    def write(self, data: bytes, /) -> int:
        self._write(data.decode())
        return len(data)


class Command(BaseCommand):
    help = (
        "Write a realistic synthetic event ledger as NDJSON: ORDERS orders of SELLERS sellers "
        "(S-1001.., Zipf-like volumes, some unhealthy) placed over DAYS days ending with --end. "
        "Events after the end of that day are left out. The same arguments give the same bytes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=_count, default=1000, help="orders (default 1000)")
        parser.add_argument(
            "--sellers", type=_positive, default=10, help="sellers S-1001.. (default 10)"
        )
        parser.add_argument(
            "--days", type=_positive, default=90, help="days the orders span (default 90)"
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--out", default="-", help="output file; - or none for stdout")
        parser.add_argument(
            "--marketplace",
            default="US",
            help="marketplace code (default US); several separated by commas, such as US,CN, "
            "give one ledger: the first has 70%% of the orders and every seller, the others "
            "share the rest with the largest sellers and every third other seller, each in its "
            "own default time zone and currency",
        )
        parser.add_argument(
            "--sizes",
            choices=SIZES,
            default="zipf",
            help="seller sizes: zipf (default; volume falls with rank) or long-tail (one very "
            "large seller per 10,000 sellers, together 30%% of the orders; the rest log-normal, "
            "most with a few dozen orders at 100 orders per seller)",
        )
        parser.add_argument(
            "--end",
            type=_day,
            default=None,
            help="last day covered, YYYY-MM-DD (default: today in the marketplace's time zone)",
        )
        parser.add_argument(
            "--timezone",
            default=None,
            help="the marketplace's time zone (default America/Los_Angeles for US)",
        )
        parser.add_argument(
            "--currency", default=None, help="the marketplace's currency (default USD for US)"
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help="the demo's three sellers instead: S-1 failing the order defect rate, "
            "S-2 healthy, S-3 failing the late shipment rate (--sellers is ignored)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        codes = [code.strip() for code in str(options["marketplace"]).split(",")]
        if len(codes) > 1:
            self._several(codes, options)
            return
        marketplace: str = codes[0]
        zone_name: str = options["timezone"] or default_timezone(marketplace)
        try:
            tz = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"unknown time zone {zone_name!r}") from None
        end: date = options["end"] or timezone.now().astimezone(tz).date()
        orders: int = options["orders"]
        if options["demo"]:
            profiles = demo_profiles()
        else:
            profiles = seller_profiles(
                options["sellers"], seed=options["seed"], sizes=options["sizes"]
            )
        events = generate_events(
            orders=orders,
            profiles=profiles,
            days=options["days"],
            seed=options["seed"],
            end=end,
            marketplace=marketplace,
            timezone=zone_name,
            currency=options["currency"] or default_currency(marketplace),
        )
        self._write(events, orders, options["out"])

    def _several(self, codes: list[str], options: dict[str, Any]) -> None:
        """One ledger over several marketplaces, each in its own default zone and currency."""
        if any(not code for code in codes) or len(set(codes)) != len(codes):
            raise CommandError(
                f"--marketplace: name distinct marketplaces separated by commas, not "
                f"{options['marketplace']!r}"
            )
        if options["timezone"] or options["currency"] or options["demo"]:
            raise CommandError(
                "--timezone, --currency and --demo go with one marketplace; with several, "
                "each has its default time zone and currency"
            )
        end: date = (
            options["end"] or timezone.now().astimezone(ZoneInfo(default_timezone(codes[0]))).date()
        )
        profiles = seller_profiles(options["sellers"], seed=options["seed"], sizes=options["sizes"])
        events = generate_marketplaces_events(
            orders=options["orders"],
            marketplaces=codes,
            profiles=profiles,
            days=options["days"],
            seed=options["seed"],
            end=end,
        )
        self._write(events, options["orders"], options["out"])

    def _write(self, events: Iterator[dict[str, Any]], orders: int, out: str) -> None:
        started = time.perf_counter()
        if out in ("", "-"):
            written = self._to_stdout(events)
        else:
            try:
                with open(out, "wb") as file:
                    written = write_ndjson(events, file)
            except OSError as exc:
                raise CommandError(f"{out}: {exc.strerror or exc}") from None
        elapsed = time.perf_counter() - started
        self.stderr.write(
            f"{written:,} events, {orders:,} orders in {elapsed:.1f}s "
            f"({written / max(elapsed, 1e-9):,.0f} events/s)",
            style_func=str,
        )

    def _to_stdout(self, events: Iterator[dict[str, Any]]) -> int:
        self.stdout.flush()
        # OutputWrapper hands attribute lookups to the stream it wraps: a real stdout has a
        # binary buffer underneath, a StringIO does not.
        binary: BinaryIO | None = getattr(self.stdout, "buffer", None)
        if binary is None:
            return write_ndjson(events, _TextSink(lambda text: self.stdout.write(text, ending="")))
        written = write_ndjson(events, binary)
        binary.flush()
        return written
