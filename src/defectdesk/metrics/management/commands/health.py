"""`defectdesk health SELLER`: a seller's account health, its history and its explanations."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser

from defectdesk.accounts.models import Seller
from defectdesk.core.errors import DomainError
from defectdesk.metrics.explain import explain_change, explain_day, outlook
from defectdesk.metrics.health import (
    MAX_HISTORY_DAYS,
    Scope,
    history_range,
    metric_history,
    parse_day,
    scope_for,
    seller_health,
)
from defectdesk.policy.profile import METRICS


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.2f}%"


class Command(BaseCommand):
    help = (
        "Show a seller's account health as of a day (DESIGN §4); with --history, the daily "
        "history; with --explain, --changes or --outlook, why a metric is what it is."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("seller", help="the seller's id, e.g. S-1001")
        parser.add_argument(
            "--marketplace", help="marketplace code (optional when the seller sells in one)"
        )
        parser.add_argument(
            "--as-of", dest="as_of", help="YYYY-MM-DD (default: today in the marketplace)"
        )
        parser.add_argument("--json", action="store_true", help="print JSON (as the API)")
        parser.add_argument(
            "--history",
            type=int,
            metavar="DAYS",
            help=f"the last DAYS days of history (1-{MAX_HISTORY_DAYS}) ending with --as-of",
        )
        parser.add_argument(
            "--metric",
            default=None,
            choices=METRICS,
            help="one metric (history: default all; explanations: default order_defect_rate)",
        )
        parser.add_argument(
            "--explain",
            action="store_true",
            help="list the orders and defects counted against the metric",
        )
        parser.add_argument(
            "--changes", metavar="FROM", help="what changed in the metric between FROM and --as-of"
        )
        parser.add_argument(
            "--outlook",
            action="store_true",
            help="when each counted defect leaves the window; the next 30 days' projected rate",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._handle(options)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc

    def _out(self, data: Any) -> None:
        self.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())

    def _handle(self, options: dict[str, Any]) -> None:
        seller = Seller.objects.filter(external_id=options["seller"]).first()
        if seller is None:
            raise CommandError(f"Seller {options['seller']!r} not found.")
        scope = scope_for(seller, options["marketplace"])
        day = parse_day(options["as_of"], "as_of", scope.today, scope.today)
        metric = options["metric"] or "order_defect_rate"
        as_json = options["json"]
        if options["explain"]:
            self._explain(explain_day(scope, metric, day), as_json)
        elif options["changes"]:
            first = parse_day(options["changes"], "from", scope.today, day)
            self._changes(scope, metric, first, day, as_json)
        elif options["outlook"]:
            self._outlook(scope, metric, day, as_json)
        elif options["history"] is not None:
            names = [options["metric"]] if options["metric"] else list(METRICS)
            self._history(scope, names, options["history"], day, as_json)
        else:
            self._health(scope, day, as_json)

    def _changes(self, scope: Scope, metric: str, first: date, day: date, as_json: bool) -> None:
        """What entered and left the metric's count between two days."""
        history_range(scope, first, day)
        data = explain_change(scope, metric, first, day)
        if as_json:
            self._out(data)
            return
        a, b = data["from"], data["to"]
        self.stdout.write(
            f"{metric} for {scope.seller.external_id} in {scope.marketplace.code}: "
            f"{_pct(a['rate'])} on {a['date']} -> {_pct(b['rate'])} on "
            f"{b['date']}"
        )
        self.stdout.write(
            f"counted against ({data['counts']}): {a['counted_against']} "
            f"+ {len(data['entered'])} entered - {len(data['left'])} left "
            f"= {b['counted_against']}"
        )
        for label in ("entered", "left"):
            for item in data[label]:
                self.stdout.write(f"  {label:<7} {item['order']:<24} {item['reason']}")

    def _outlook(self, scope: Scope, metric: str, day: date, as_json: bool) -> None:
        """When each counted defect leaves the window, and the projected rate."""
        data = outlook(scope, metric, day)
        if as_json:
            self._out(data)
            return
        self.stdout.write(f"{metric} as of {day}: {_pct(data['rate'])} ({data['status']})")
        for d in data["defects"]:
            kinds = ", ".join(x["kind"] for x in d["defects"]) or "missed"
            self.stdout.write(
                f"  {d['order']:<24} {kinds:<30} leaves the window on {d['leaves_window_on']}"
            )
        self.stdout.write(f"projection ({data['assumption']}):")
        for p in data["projection"]:
            self.stdout.write(f"  {p['date']}  {_pct(p['rate']):>8}  {p['status']}")

    def _history(self, scope: Scope, names: list[str], days: int, day: date, as_json: bool) -> None:
        """The daily rates of the last `days` days up to `day`, one column a metric."""
        if not 1 <= days <= MAX_HISTORY_DAYS:
            raise CommandError(f"--history must be 1 to {MAX_HISTORY_DAYS} days, not {days}.")
        first = day - timedelta(days=days - 1)
        history_range(scope, first, day)
        series = {m: metric_history(scope, m, first, day) for m in names}
        if as_json:
            self._out(series if len(names) > 1 else series[names[0]])
            return
        self.stdout.write("date        " + "  ".join(f"{m[:14]:>14}" for m in names))
        for i in range(days):
            row = [series[m][i] for m in names]
            self.stdout.write(
                row[0]["date"]
                + "  "
                + "  ".join(
                    f"{_pct(r['rate']) + (' !' if r['status'] == 'bad' else ''):>14}" for r in row
                )
            )

    def _health(self, scope: Scope, day: date, as_json: bool) -> None:
        """The account's health on `day`: its status and every metric."""
        health = seller_health(scope, day)
        if as_json:
            self._out(health)
            return
        self.stdout.write(
            f"{scope.seller.external_id} in {scope.marketplace.code} as of {day}: "
            f"{health['account_status'].replace('_', ' ')}"
        )
        self.stdout.write(
            f"{'metric':<30} {'rate':>8} {'orders':>15} {'target':>9} {'status':<6} window"
        )
        for name, m in health["metrics"].items():
            sign = "<" if m["target"]["condition"] == "lt" else ">"
            self.stdout.write(
                f"{name:<30} {_pct(m['rate']):>8} {m['numerator']:>7}/{m['denominator']:<7} "
                f"{sign}{m['target']['value'] * 100:>7.2f}% {m['status']:<6} "
                f"{m['window']['from']}..{m['window']['to']}"
            )

    def _explain(self, data: dict[str, Any], as_json: bool) -> None:
        if as_json:
            self._out(data)
            return
        self.stdout.write(
            f"{data['metric']} as of {data['as_of']}: {_pct(data['rate'])} "
            f"({data['numerator']}/{data['denominator']}, {data['status']}); "
            f"{data['counted_against']} counted against ({data['counts']})"
        )
        for o in data["orders"]:
            kinds = ", ".join(f"{d['kind']}#{d['id']}" for d in o["defects"] if d["active"])
            self.stdout.write(
                f"  {o['order']:<24} {o.get('order_date') or o.get('message_date')}"
                f"  {kinds or o.get('message', '')}  leaves {o['leaves_window_on']}"
            )
