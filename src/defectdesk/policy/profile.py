"""Policy profiles as data: the default profile of DESIGN §3-§4, parsing and validation (pure)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

from defectdesk.core.errors import FieldError
from defectdesk.policy.kinds import DEFECT_KINDS, Setting, kinds_in
from defectdesk.policy.metrics import CONDITIONS, METRIC_DEFS, ODR

METRICS: tuple[str, ...] = tuple(METRIC_DEFS)
KINDS: tuple[str, ...] = tuple(DEFECT_KINDS)
ODR_KINDS: tuple[str, ...] = kinds_in(ODR)

DEFAULT_PROFILE: dict[str, Any] = {
    "metrics": {
        name: m.default_policy() | ({"kinds": list(ODR_KINDS)} if name == ODR else {})
        for name, m in METRIC_DEFS.items()
    },
    "defects": {code: kind.default_policy() for code, kind in DEFECT_KINDS.items()},
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
    # Every kind's settings by name, as the profile gives them (the placeholders of its texts).
    settings: dict[str, dict[str, Any]]


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


def _check_setting(errors: list[FieldError], field: str, value: Any, setting: Setting) -> None:
    if setting.names is not None:
        _check_list(errors, field, value, setting.names())
    elif not _is_int(value) or not setting.low <= value <= setting.high:
        errors.append(FieldError(field, setting.message))


def _metric_errors(errors: list[FieldError], name: str, spec: dict[str, Any]) -> None:
    """The problems with one known metric's settings."""
    field = f"metrics.{name}"
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


def _defect_errors(errors: list[FieldError], kind: str, spec: dict[str, Any]) -> None:
    """The problems with one known kind's settings."""
    field = f"defects.{kind}"
    if not isinstance(spec.get("enabled", True), bool):
        errors.append(FieldError(f"{field}.enabled", "must be true or false"))
    settings = {setting.name: setting for setting in DEFECT_KINDS[kind].settings}
    for key in spec:
        if key != "enabled" and key not in settings:
            errors.append(FieldError(f"{field}.{key}", "unknown setting"))
    for setting in settings.values():
        _check_setting(errors, f"{field}.{setting.name}", spec.get(setting.name), setting)


def _section_errors(
    errors: list[FieldError],
    section: str,
    value: Any,
    known: tuple[str, ...],
    what: str,
    check: Callable[[list[FieldError], str, dict[str, Any]], None],
) -> dict[str, Any]:
    """The problems with a section of named entries (metrics, defect kinds): an unknown name is
    refused, naming it and the known ones; each known entry is checked by `check`."""
    if not isinstance(value, dict):
        errors.append(FieldError(section, "must be an object"))
        return {}
    for name, spec in value.items():
        field = f"{section}.{name}"
        if name not in known:
            errors.append(FieldError(field, f"unknown {what} {name!r}; known: {', '.join(known)}"))
        elif not isinstance(spec, dict):
            errors.append(FieldError(field, "must be an object"))
        else:
            check(errors, name, spec)
    return value


def profile_errors(profile: Any) -> list[FieldError]:
    """Every problem with a complete profile, each naming its field."""
    errors: list[FieldError] = []
    if not isinstance(profile, dict):
        return [FieldError("policy", "must be a JSON object")]
    for key in profile:
        if key not in ("metrics", "defects"):
            errors.append(FieldError(key, "unknown section; expected metrics or defects"))
    metrics = _section_errors(
        errors, "metrics", profile.get("metrics"), METRICS, "metric", _metric_errors
    )
    for name in METRICS:
        if name not in metrics:
            errors.append(FieldError(f"metrics.{name}", "is required"))
    _section_errors(errors, "defects", profile.get("defects"), KINDS, "defect kind", _defect_errors)
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
        settings={k: {n: v for n, v in d[k].items() if n != "enabled"} for k in KINDS},
        max_rating=int(d["negative_feedback"]["max_rating"]),
        claim_removing_outcomes=frozenset(d["a_to_z_claim"]["removing_outcomes"]),
        chargeback_service_reasons=frozenset(d["chargeback"]["service_reasons"]),
        chargeback_removing_outcomes=frozenset(d["chargeback"]["removing_outcomes"]),
        cancel_requested_by=frozenset(d["cancellation"]["requested_by"]),
        scan_grace_hours=int(d["invalid_tracking"]["scan_grace_hours"]),
    )
    return Policy(metrics=metrics, defects=defects, profile=profile)


DEFAULT_POLICY = policy_from_profile(DEFAULT_PROFILE)
