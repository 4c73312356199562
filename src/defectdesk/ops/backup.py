"""Backups that prove themselves: the facts of a database (row counts, sampled sellers' health,
evidence checksums) recorded with a dump, and compared after restoring it elsewhere."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from django.apps import apps
from django.core.files.storage import FileSystemStorage, Storage, default_storage

from defectdesk.accounts.models import Seller
from defectdesk.appeals.filestore import evidence_staged_name
from defectdesk.appeals.models import AppealFile
from defectdesk.ledger.models import Order
from defectdesk.metrics.health import scope_for, seller_health

OUR_APPS = (
    "core",
    "accounts",
    "ledger",
    "defects",
    "policy",
    "metrics",
    "appeals",
    "messaging",
    "notify",
)


def row_counts() -> dict[str, int]:
    """Rows in each of DefectDesk's tables."""
    counts = {}
    for label in OUR_APPS:
        for model in apps.get_app_config(label).get_models():
            counts[model._meta.db_table] = model._default_manager.count()
    return dict(sorted(counts.items()))


def sellers_sample(size: int) -> list[tuple[str, str]]:
    """(seller, marketplace) pairs spread evenly over the sellers that have orders."""
    pairs = list(
        Order.objects.values_list("seller__external_id", "marketplace__code")
        .distinct()
        .order_by("seller__external_id", "marketplace__code")
    )
    if len(pairs) <= size:
        return [(s, m) for s, m in pairs]
    step = len(pairs) / size
    return [pairs[int(i * step)] for i in range(size)]


def health_of(pairs: list[tuple[str, str]], as_of: date) -> dict[str, Any]:
    """Each sampled seller's health JSON in each marketplace, as of one day."""
    found: dict[str, Any] = {}
    for seller_id, marketplace in pairs:
        seller = Seller.objects.get(external_id=seller_id)
        health = seller_health(scope_for(seller, marketplace), as_of)
        found[f"{seller_id}/{marketplace}"] = orjson.loads(
            orjson.dumps(health, default=str, option=orjson.OPT_SORT_KEYS)
        )
    return found


@dataclass
class EvidenceCheck:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)


def evidence_check(storage: Storage | None = None) -> EvidenceCheck:
    """Read every evidence file the database names and compare its SHA-256 with the row's."""
    store = storage or default_storage
    result = EvidenceCheck()
    for name, expected in AppealFile.objects.order_by("pk").values_list("storage_name", "sha256"):
        result.checked += 1
        digest = hashlib.sha256()
        try:
            # A file not yet moved out of staging (docs/operations.md) is read there.
            if not store.exists(name) and store.exists(evidence_staged_name(name)):
                name = evidence_staged_name(name)
            with store.open(name, "rb") as handle:
                while chunk := handle.read(1024 * 1024):
                    digest.update(chunk)
        except Exception:  # a file not found on disk, a missing key or an error in a bucket
            result.missing.append(name)
            continue
        if digest.hexdigest() != expected:
            result.mismatched.append(name)
    return result


def evidence_storage(location: str | None) -> Storage:
    """The evidence backup to check: a folder (a copy of MEDIA_ROOT) or the configured store."""
    return FileSystemStorage(location=location) if location else default_storage


def facts(samples: list[tuple[str, str]], as_of: date) -> dict[str, Any]:
    """What a restored copy must show: row counts and the sampled sellers' health."""
    return {
        "as_of": as_of.isoformat(),
        "counts": row_counts(),
        "samples": [list(pair) for pair in samples],
        "health": health_of(samples, as_of),
    }


def facts_compare(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """The differences between the facts recorded at backup and those of the restored copy."""
    problems = []
    for table, count in expected["counts"].items():
        got = found["counts"].get(table)
        if got != count:
            problems.append(f"table {table}: {count} rows at backup, {got} restored")
    for key, health in expected["health"].items():
        if found["health"].get(key) != health:
            problems.append(f"health of {key} as of {expected['as_of']} differs after restoring")
    return problems
