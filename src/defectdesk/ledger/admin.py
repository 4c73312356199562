"""Operators' admin for the ledger: read-only views of what arrived."""

from django.contrib import admin

from defectdesk.core.readonly_admin import ReadOnlyAdmin
from defectdesk.ledger.models import Marketplace, StripeWebhook


@admin.register(Marketplace)
class MarketplaceAdmin(ReadOnlyAdmin):
    """Marketplaces change only through their action (`defectdesk marketplace`, the operator
    console): it is audited, and it changes the data version that every cached page showing a
    marketplace is kept under. An edit here would do neither."""

    list_display = ["code", "name", "timezone", "currency"]


@admin.register(StripeWebhook)
class StripeWebhookAdmin(admin.ModelAdmin):
    list_display = ["stripe_event_id", "type", "dispute_id", "status", "received_at"]
    list_filter = ["status", "type"]
    search_fields = ["stripe_event_id", "dispute_id"]
    readonly_fields = [
        f.name for f in StripeWebhook._meta.get_fields() if f.concrete and not f.many_to_many
    ]
