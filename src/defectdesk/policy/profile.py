"""Policy profiles as data: the default profile of DESIGN §3-§4, parsing and validation (pure)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, TypeGuard

from defectdesk.core.errors import FieldError

METRICS: tuple[str, ...] = (
    "order_defect_rate",
    "pre_fulfillment_cancel_rate",
    "late_shipment_rate",
    "valid_tracking_rate",
    "on_time_delivery_rate",
    "refund_rate",
    "contact_response_rate",
)
KINDS: tuple[str, ...] = (
    "negative_feedback",
    "a_to_z_claim",
    "chargeback",
    "cancellation",
    "late_shipment",
    "invalid_tracking",
    "late_delivery",
    "refund",
)
ODR_KINDS: tuple[str, ...] = ("negative_feedback", "a_to_z_claim", "chargeback")
CLAIM_OUTCOMES = (
    "denied",
    "withdrawn",
    "refunded_by_seller",
    "granted_seller_funded",
    "granted_marketplace_funded",
)
CHARGEBACK_OUTCOMES = ("won", "lost", "accepted")
CHARGEBACK_REASONS = (
    "not_received",
    "not_as_described",
    "duplicate",
    "fraud",
    "unrecognized",
    "other",
)
CANCEL_REQUESTERS = ("buyer", "seller", "marketplace")
CONDITIONS = ("lt", "gt")

DEFAULT_PROFILE: dict[str, Any] = {
    "metrics": {
        "order_defect_rate": {
            "window_days": 60,
            "lag_days": 14,
            "target": 0.01,
            "condition": "lt",
            "kinds": ["negative_feedback", "a_to_z_claim", "chargeback"],
        },
        "pre_fulfillment_cancel_rate": {
            "window_days": 7,
            "lag_days": 0,
            "target": 0.025,
            "condition": "lt",
        },
        "late_shipment_rate": {"window_days": 30, "lag_days": 0, "target": 0.04, "condition": "lt"},
        "valid_tracking_rate": {
            "window_days": 30,
            "lag_days": 10,
            "target": 0.95,
            "condition": "gt",
        },
        "on_time_delivery_rate": {
            "window_days": 30,
            "lag_days": 10,
            "target": 0.90,
            "condition": "gt",
        },
        "refund_rate": {"window_days": 30, "lag_days": 0, "target": 0.05, "condition": "lt"},
        "contact_response_rate": {
            "window_days": 30,
            "lag_days": 0,
            "target": 0.90,
            "condition": "gt",
            "response_hours": 24,
        },
    },
    "defects": {
        "negative_feedback": {"enabled": True, "max_rating": 2},
        "a_to_z_claim": {
            "enabled": True,
            "removing_outcomes": ["denied", "withdrawn", "granted_marketplace_funded"],
        },
        "chargeback": {
            "enabled": True,
            "service_reasons": ["not_received", "not_as_described", "duplicate", "other"],
            "removing_outcomes": ["won"],
        },
        "cancellation": {"enabled": True, "requested_by": ["seller"]},
        "late_shipment": {"enabled": True},
        "invalid_tracking": {"enabled": True, "scan_grace_hours": 48},
        "late_delivery": {"enabled": True},
        "refund": {"enabled": True},
    },
}


@dataclass(frozen=True, slots=True)
class MetricPolicy:
    name: str
    window_days: int
    lag_days: int
    target: float
    condition: str  # "lt": the rate must stay below the target; "gt": above it
    kinds: tuple[str, ...] = ()
    response_hours: int = 24

    def status(self, rate: float | None) -> str:
        """good / bad / none; a rate exactly at its target fails (strict comparisons)."""
        if rate is None:
            return "none"
        ok = rate < self.target if self.condition == "lt" else rate > self.target
        return "good" if ok else "bad"


@dataclass(frozen=True, slots=True)
class DefectPolicy:
    enabled: dict[str, bool]
    max_rating: int
    claim_removing_outcomes: frozenset[str]
    chargeback_service_reasons: frozenset[str]
    chargeback_removing_outcomes: frozenset[str]
    cancel_requested_by: frozenset[str]
    scan_grace_hours: int


@dataclass(frozen=True, slots=True)
class Policy:
    metrics: dict[str, MetricPolicy]
    defects: DefectPolicy
    profile: dict[str, Any]

    def metric(self, name: str) -> MetricPolicy:
        return self.metrics[name]

    def rules_key(self) -> Any:
        """What the defect rules and counters depend on (windows and targets do not count)."""
        return (
            self.profile["defects"],
            self.profile["metrics"]["order_defect_rate"]["kinds"],
            self.profile["metrics"]["contact_response_rate"]["response_hours"],
        )


def default_profile() -> dict[str, Any]:
    return copy.deepcopy(DEFAULT_PROFILE)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_list(errors: list[FieldError], field: str, value: Any, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(FieldError(field, "must be a list of names"))
        return
    unknown = [v for v in value if v not in allowed]
    if unknown:
        errors.append(
            FieldError(
                field, f"unknown {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}"
            )
        )


def profile_errors(profile: Any) -> list[FieldError]:
    """Every problem with a complete profile, each naming its field."""
    errors: list[FieldError] = []
    if not isinstance(profile, dict):
        return [FieldError("policy", "must be a JSON object")]
    for key in profile:
        if key not in ("metrics", "defects"):
            errors.append(FieldError(key, "unknown section; expected metrics or defects"))
    metrics = profile.get("metrics")
    if not isinstance(metrics, dict):
        errors.append(FieldError("metrics", "must be an object"))
        metrics = {}
    for name, spec in metrics.items():
        field = f"metrics.{name}"
        if name not in METRICS:
            errors.append(
                FieldError(field, f"unknown metric {name!r}; known: {', '.join(METRICS)}")
            )
            continue
        if not isinstance(spec, dict):
            errors.append(FieldError(field, "must be an object"))
            continue
        allowed = {"window_days", "lag_days", "target", "condition", "kinds", "response_hours"}
        for key in spec:
            if key not in allowed:
                errors.append(FieldError(f"{field}.{key}", "unknown setting"))
        window = spec.get("window_days")
        if not _is_int(window) or not 1 <= window <= 365:
            errors.append(
                FieldError(f"{field}.window_days", "must be a whole number of days from 1 to 365")
            )
        lag = spec.get("lag_days")
        if not _is_int(lag) or not 0 <= lag <= 365:
            errors.append(
                FieldError(f"{field}.lag_days", "must be a whole number of days from 0 to 365")
            )
        target = spec.get("target")
        if not _is_number(target) or not 0 <= float(target) <= 1:
            errors.append(FieldError(f"{field}.target", "must be a number from 0 to 1"))
        if spec.get("condition") not in CONDITIONS:
            errors.append(FieldError(f"{field}.condition", 'must be "lt" or "gt"'))
        if "kinds" in spec:
            if name != "order_defect_rate":
                errors.append(
                    FieldError(f"{field}.kinds", "only the order defect rate takes a list of kinds")
                )
            else:
                _check_list(errors, f"{field}.kinds", spec["kinds"], ODR_KINDS)
        if "response_hours" in spec:
            hours = spec["response_hours"]
            if name != "contact_response_rate":
                errors.append(
                    FieldError(
                        f"{field}.response_hours",
                        "only the contact response rate takes response_hours",
                    )
                )
            elif not _is_int(hours) or not 1 <= hours <= 720:
                errors.append(
                    FieldError(
                        f"{field}.response_hours", "must be a whole number of hours from 1 to 720"
                    )
                )
    for name in METRICS:
        if name not in metrics:
            errors.append(FieldError(f"metrics.{name}", "is required"))
    defects = profile.get("defects")
    if not isinstance(defects, dict):
        errors.append(FieldError("defects", "must be an object"))
        defects = {}
    for kind, spec in defects.items():
        field = f"defects.{kind}"
        if kind not in KINDS:
            errors.append(
                FieldError(field, f"unknown defect kind {kind!r}; known: {', '.join(KINDS)}")
            )
            continue
        if not isinstance(spec, dict):
            errors.append(FieldError(field, "must be an object"))
            continue
        if not isinstance(spec.get("enabled", True), bool):
            errors.append(FieldError(f"{field}.enabled", "must be true or false"))
        known = {"enabled"} | {
            "negative_feedback": {"max_rating"},
            "a_to_z_claim": {"removing_outcomes"},
            "chargeback": {"service_reasons", "removing_outcomes"},
            "cancellation": {"requested_by"},
            "invalid_tracking": {"scan_grace_hours"},
        }.get(kind, set())
        for key in spec:
            if key not in known:
                errors.append(FieldError(f"{field}.{key}", "unknown setting"))
        if kind == "negative_feedback":
            rating = spec.get("max_rating")
            if not _is_int(rating) or not 1 <= rating <= 4:
                errors.append(FieldError(f"{field}.max_rating", "must be a rating from 1 to 4"))
        elif kind == "a_to_z_claim":
            _check_list(
                errors, f"{field}.removing_outcomes", spec.get("removing_outcomes"), CLAIM_OUTCOMES
            )
        elif kind == "chargeback":
            _check_list(
                errors, f"{field}.service_reasons", spec.get("service_reasons"), CHARGEBACK_REASONS
            )
            _check_list(
                errors,
                f"{field}.removing_outcomes",
                spec.get("removing_outcomes"),
                CHARGEBACK_OUTCOMES,
            )
        elif kind == "cancellation":
            _check_list(
                errors, f"{field}.requested_by", spec.get("requested_by"), CANCEL_REQUESTERS
            )
        elif kind == "invalid_tracking":
            hours = spec.get("scan_grace_hours")
            if not _is_int(hours) or not 0 <= hours <= 720:
                errors.append(
                    FieldError(
                        f"{field}.scan_grace_hours", "must be a whole number of hours from 0 to 720"
                    )
                )
    return errors


def profile_complete(override: dict[str, Any]) -> dict[str, Any]:
    """A partial profile filled in from the default (what an operator's edit is merged onto)."""
    return _merge(DEFAULT_PROFILE, override)


def policy_from_profile(profile: dict[str, Any]) -> Policy:
    """The typed policy of a valid, complete profile."""
    metrics = {}
    for name in METRICS:
        spec = profile["metrics"][name]
        metrics[name] = MetricPolicy(
            name=name,
            window_days=int(spec["window_days"]),
            lag_days=int(spec["lag_days"]),
            target=float(spec["target"]),
            condition=spec["condition"],
            kinds=tuple(spec.get("kinds", ())),
            response_hours=int(spec.get("response_hours", 24)),
        )
    d = profile["defects"]
    defects = DefectPolicy(
        enabled={k: bool(d[k].get("enabled", True)) for k in KINDS},
        max_rating=int(d["negative_feedback"]["max_rating"]),
        claim_removing_outcomes=frozenset(d["a_to_z_claim"]["removing_outcomes"]),
        chargeback_service_reasons=frozenset(d["chargeback"]["service_reasons"]),
        chargeback_removing_outcomes=frozenset(d["chargeback"]["removing_outcomes"]),
        cancel_requested_by=frozenset(d["cancellation"]["requested_by"]),
        scan_grace_hours=int(d["invalid_tracking"]["scan_grace_hours"]),
    )
    return Policy(metrics=metrics, defects=defects, profile=profile)


DEFAULT_POLICY = policy_from_profile(DEFAULT_PROFILE)
