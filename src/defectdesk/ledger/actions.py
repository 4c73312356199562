"""State changes to marketplaces."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from defectdesk.core.actors import Actor
from defectdesk.core.audit import audit_record
from defectdesk.core.errors import FieldError, ValidationFailed
from defectdesk.core.language import language_codes, language_supported
from defectdesk.core.timeutil import zone
from defectdesk.ledger.models import Marketplace, Order


def marketplace_set(
    *,
    actor: Actor,
    code: str,
    timezone: str,
    currency: str,
    name: str | None = None,
    language: str | None = None,
) -> tuple[Marketplace, bool]:
    """Create or update a marketplace; returns it and whether its order dates must be rebuilt."""
    errors = []
    code = code.strip()
    if not code or len(code) > 16 or not code.replace("-", "").replace("_", "").isalnum():
        errors.append(FieldError("code", _("must be 1-16 letters, digits, - or _")))
    try:
        zone(timezone)
    except ValueError:
        errors.append(
            FieldError(
                "timezone",
                _("unknown time zone %(name)r (use an IANA name such as America/Los_Angeles)")
                % {"name": timezone},
            )
        )
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        errors.append(FieldError("currency", _("must be a three-letter ISO 4217 code such as USD")))
    if language is not None and not language_supported(language):
        errors.append(
            FieldError(
                "language",
                _("%(name)r is not a language of DefectDesk; choose one of %(codes)s")
                % {"name": language[:32], "codes": ", ".join(language_codes())},
            )
        )
    if errors:
        raise ValidationFailed(_("Marketplace %(code)r was not saved.") % {"code": code}, errors)
    with transaction.atomic():
        market = Marketplace.objects.select_for_update().filter(code=code).first()
        created = market is None
        before = (
            {} if market is None else {"timezone": market.timezone, "currency": market.currency}
        )
        if market is None:
            market = Marketplace(code=code)
        elif market.currency != currency and Order.objects.filter(marketplace=market).exists():
            raise ValidationFailed(
                _("Marketplace %(code)r was not saved.") % {"code": code},
                [
                    FieldError(
                        "currency",
                        _("orders exist in %(currency)s; the currency cannot change")
                        % {"currency": market.currency},
                    )
                ],
            )
        market.timezone = timezone
        market.currency = currency
        if language is not None:
            market.default_language = language_supported(language)
        if name is not None:
            market.name = name
        elif created:
            market.name = code
        market.save()
        audit_record(
            actor=actor,
            action="marketplace.create" if created else "marketplace.update",
            object_type="marketplace",
            object_id=market.code,
            data={
                "before": before,
                "timezone": timezone,
                "currency": currency,
                "name": market.name,
                "default_language": market.default_language,
            },
        )
    needs_rebuild = not created and before.get("timezone") != timezone
    return market, needs_rebuild
