"""An operator's policy change is one action; a change of the defect rules recomputes the history
as a job whose progress the policy page shows, not inside the request."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from defectdesk.appeals.models import AppealPolicy
from defectdesk.appeals.policy import marketplace_policy_set
from defectdesk.console.health import account_statuses, marketplace_today
from defectdesk.core.actors import Actor
from defectdesk.core.errors import ValidationFailed
from defectdesk.core.models import AuditEvent
from defectdesk.ledger.models import Marketplace
from defectdesk.metrics.models import DailyCounter
from defectdesk.policy import actions as policy_actions
from defectdesk.policy.models import MarketplacePolicy, PolicyReplay
from tests.test_appeal_support import client_for, frozen, media  # noqa: F401
from tests.test_console_operator import policy_form, seller_orders
from tests.test_jobs_retry import run_due_jobs

pytestmark = pytest.mark.usefixtures("media", "frozen")

URL = "/operator/marketplaces/US/policy/"


@pytest.fixture
def sellers(cast: dict[str, Any], make_event: Any) -> Marketplace:
    """300 orders of three sellers; S-3 is at risk only through one negative feedback."""
    seller_orders(make_event, "S-1", 150, 1)
    seller_orders(make_event, "S-2", 100, 0)
    seller_orders(make_event, "S-3", 50, 1)
    return Marketplace.objects.get(code="US")


RESPONSE = "metrics.contact_response_rate.response_hours"


def _counters() -> list[tuple[Any, ...]]:
    return sorted(DailyCounter.objects.values_list())


def _jobs() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="policy_replay_job").count()


@pytest.mark.django_db(transaction=True)  # the worker closes connections between jobs
def test_a_rule_change_returns_at_once_and_the_page_shows_the_replay_until_it_is_done(
    cast: dict[str, Any], sellers: Marketplace, django_capture_on_commit_callbacks: Any
) -> None:
    otto = client_for(cast["otto"])
    with django_capture_on_commit_callbacks(execute=True):
        saved = otto.post(URL, {**policy_form(**{RESPONSE: "48"}), "action": "save"})
    assert saved.status_code == 303
    replay = PolicyReplay.objects.get()
    assert replay.status == "queued" and _jobs() == 1
    assert (
        MarketplacePolicy.objects.get(marketplace=sellers).profile["metrics"][
            "contact_response_rate"
        ]["response_hours"]
        == 48
    )
    page = otto.get(URL).content.decode()
    assert "being recomputed from the ledger in the background" in page
    assert "Replaying: 0% (0 of 300 orders)" in page
    assert 'data-poll="?replay=status"' in page  # app.js fetches the box again
    box = otto.get(URL + "?replay=status")
    assert box["Cache-Control"] == "no-store" and "<form" not in box.content.decode()
    assert "Replaying: 0% (0 of 300 orders)" in box.content.decode()

    run_due_jobs()
    replay.refresh_from_db()
    assert replay.status == "done" and replay.orders_done == replay.orders_total == 300
    page = otto.get(URL).content.decode()
    assert "Recomputed under policy version 1" in page and "(300 orders)" in page
    assert "data-poll" not in page
    assert "Recomputed under policy version 1" in otto.get(URL + "?replay=status").content.decode()
    event = AuditEvent.objects.get(action="policy_set")
    assert event.note == f"defects and metrics to be recomputed by replay {replay.pk}"


def _statuses(market: Marketplace) -> dict[int, str]:
    return account_statuses(market, marketplace_today(market))


def _without_feedback(cast: dict[str, Any], market: Marketplace) -> Any:
    """Stop counting negative feedback in the ODR: a defect rule, so the history is replayed."""
    return marketplace_policy_set(
        actor=Actor(user=cast["otto"]),
        marketplace=market,
        profile={"metrics": {"order_defect_rate": {"kinds": ["a_to_z_claim", "chargeback"]}}},
        appeal={"filing_window_days": {}, "hours": {}, "auto_rules": {}},
    )


@pytest.mark.django_db(transaction=True)  # the worker closes connections between jobs
def test_the_figures_change_when_the_replay_commits_not_before(
    cast: dict[str, Any], sellers: Marketplace, django_capture_on_commit_callbacks: Any
) -> None:
    before = _statuses(sellers)
    counters = _counters()
    with django_capture_on_commit_callbacks(execute=True):
        change = _without_feedback(cast, sellers)
    assert change.replay is not None and change.replay.status == "queued"
    assert _statuses(sellers) == before and _counters() == counters
    run_due_jobs()
    after = _statuses(sellers)
    assert after != before and _counters() != counters
    # S-3's one negative feedback no longer counts: it is healthy now (as the preview said).
    assert [k for k in before if before[k] != after[k]] == [
        s for s, v in before.items() if v == "at_risk"
    ]


def test_the_page_shows_how_far_a_running_replay_is(
    cast: dict[str, Any], sellers: Marketplace
) -> None:
    PolicyReplay.objects.create(
        marketplace=sellers,
        policy_version=2,
        status="running",
        orders_total=30_000,
        orders_done=12_000,
        requested_at=timezone.now(),
    )
    page = client_for(cast["otto"]).get(URL).content.decode()
    assert "Replaying: 40% (12,000 of 30,000 orders)" in page
    assert '<progress max="100" value="40"' in page


def test_a_target_change_needs_no_replay_and_says_who_changed_status(
    cast: dict[str, Any], sellers: Marketplace, django_capture_on_commit_callbacks: Any
) -> None:
    otto = client_for(cast["otto"])
    form = policy_form(**{"metrics.order_defect_rate.target": "0.005"})
    with django_capture_on_commit_callbacks(execute=True):
        saved = otto.post(URL, {**form, "action": "save"}, follow=True)
    assert "1 seller changed status" in saved.content.decode()
    assert not PolicyReplay.objects.exists() and _jobs() == 0


def test_a_refusal_after_the_profile_step_leaves_neither_policy_nor_replay(
    cast: dict[str, Any], sellers: Marketplace, django_capture_on_commit_callbacks: Any
) -> None:
    """The profile is stored and its replay row written when the appeal step refuses: the one
    transaction rolls both back, and no job is queued."""
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationFailed):
        marketplace_policy_set(
            actor=Actor(user=cast["otto"]),
            marketplace=sellers,
            profile={"metrics": {"contact_response_rate": {"response_hours": 48}}},
            appeal={"filing_window_days": {}, "hours": {"info_hours": 0}, "auto_rules": {}},
        )
    assert not MarketplacePolicy.objects.exists() and not AppealPolicy.objects.exists()
    assert not PolicyReplay.objects.exists() and _jobs() == 0
    assert not AuditEvent.objects.filter(action__in=["policy_set", "appeal_policy_set"]).exists()


@pytest.mark.django_db(transaction=True)  # the worker closes connections between jobs
def test_a_failing_replay_keeps_the_old_figures_and_says_so(
    cast: dict[str, Any],
    sellers: Marketplace,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
) -> None:
    real = policy_actions.marketplace_replay

    def replay_then_fail(marketplace_id: int, progress: Any = None) -> int:
        real(marketplace_id, progress)  # every projection rewritten, then the worker dies
        raise OSError("the worker lost its database connection")

    monkeypatch.setattr(policy_actions, "marketplace_replay", replay_then_fail)
    counters, statuses = _counters(), _statuses(sellers)
    with django_capture_on_commit_callbacks(execute=True):
        _without_feedback(cast, sellers)
    run_due_jobs()
    replay = PolicyReplay.objects.get()
    assert replay.status == "failed" and "lost its database connection" in replay.error
    # Rolled back whole: no half-recomputed marketplace.
    assert _counters() == counters and _statuses(sellers) == statuses
    page = client_for(cast["otto"]).get(URL).content.decode()
    assert "The recompute after the last policy change failed" in page


@pytest.mark.django_db(transaction=True)  # the worker closes connections between jobs
def test_saving_twice_replays_once_under_the_later_policy(
    cast: dict[str, Any], sellers: Marketplace, django_capture_on_commit_callbacks: Any
) -> None:
    otto = client_for(cast["otto"])
    with django_capture_on_commit_callbacks(execute=True):
        otto.post(URL, {**policy_form(**{RESPONSE: "48"}), "action": "save"})
        otto.post(URL, {**policy_form(**{RESPONSE: "12"}), "action": "save"})
    assert _jobs() == 2
    run_due_jobs()
    first, second = PolicyReplay.objects.order_by("id")
    assert (first.status, second.status) == ("superseded", "done")
    assert (first.policy_version, second.policy_version) == (1, 2)
    assert second.orders_done == 300


def test_only_operators_may_change_the_policy(cast: dict[str, Any], sellers: Marketplace) -> None:
    for name in ("alice", "carol", "rita"):
        response = client_for(cast[name]).post(
            URL, {**policy_form(**{RESPONSE: "48"}), "action": "save"}
        )
        assert response.status_code == 404, name
    assert not MarketplacePolicy.objects.exists() and not PolicyReplay.objects.exists()


def test_the_cli_still_recomputes_inline(sellers: Marketplace, tmp_path: Any) -> None:
    change = tmp_path / "policy.json"
    change.write_text(json.dumps({"metrics": {"contact_response_rate": {"response_hours": 48}}}))
    out = io.StringIO()
    call_command("policy", "set", "US", str(change), stdout=out)
    assert "policy of US is now version 1" in out.getvalue()
    assert not PolicyReplay.objects.exists() and _jobs() == 0
    assert AuditEvent.objects.get(action="policy_set").note == "recomputed defects and metrics"


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_outside_the_replays_transaction_on_postgresql(
    cast: dict[str, Any], make_event: Any, monkeypatch: Any
) -> None:
    from django.db import DEFAULT_DB_ALIAS, connections

    from defectdesk.core.bulk import is_postgres
    from defectdesk.ledger import rebuild

    if not is_postgres():
        pytest.skip("SQLite has one writer: the progress shows when the replay ends")
    seller_orders(make_event, "S-1", 120, 1)
    market = Marketplace.objects.get(code="US")
    replay = PolicyReplay.objects.create(
        marketplace=market, policy_version=1, requested_at=timezone.now()
    )
    monkeypatch.setattr(rebuild, "ORDERS_PER_BATCH", 25)
    reader = connections.create_connection(DEFAULT_DB_ALIAS)
    seen: list[tuple[int, int]] = []
    write = policy_actions.ReplayProgress.__call__

    def write_then_look(self: Any, orders: int) -> None:
        write(self, orders)
        with reader.cursor() as cursor:  # another session, as the policy page's request is
            cursor.execute(
                f"SELECT orders_done FROM {PolicyReplay._meta.db_table} WHERE id = %s",
                [replay.pk],
            )
            seen.append((orders, cursor.fetchone()[0]))

    monkeypatch.setattr(policy_actions.ReplayProgress, "__call__", write_then_look)
    try:
        assert policy_actions.policy_replay_run(replay.pk) == 120
    finally:
        reader.close()
    assert len(seen) >= 4 and all(written == read for written, read in seen), seen
    assert [n for n, _ in seen] == sorted(n for n, _ in seen)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "must be a whole number, not &#x27;abc&#x27;"),
        ("0", "must be a whole number of hours from 1 to 720"),
        ("721", "must be a whole number of hours from 1 to 720"),
    ],
)
def test_a_bad_response_time_is_refused_whole_and_named(
    cast: dict[str, Any], sellers: Marketplace, value: str, message: str
) -> None:
    response = client_for(cast["otto"]).post(
        URL, {**policy_form(**{RESPONSE: value, "info_hours": "24"}), "action": "save"}
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not MarketplacePolicy.objects.exists() and not AppealPolicy.objects.exists()
    assert not PolicyReplay.objects.exists() and _jobs() == 0


def test_a_policy_post_with_every_field_missing_changes_nothing_that_needs_a_replay(
    cast: dict[str, Any], sellers: Marketplace
) -> None:
    response = client_for(cast["otto"]).post(URL, {"action": "save"})
    assert response.status_code == 303
    assert not PolicyReplay.objects.exists() and _jobs() == 0
