"""Operators' admin: the appeal policy per marketplace, and appeals read-only."""

from __future__ import annotations

from django.contrib import admin

from defectdesk.appeals.models import Appeal, AppealPolicy
from defectdesk.core.readonly_admin import ReadOnlyAdmin


@admin.register(AppealPolicy)
class AppealPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "marketplace",
        "review_hours",
        "info_hours",
        "max_appeals_per_defect",
        "updated_at",
    ]


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    """Appeals change only through their actions; the admin shows them."""

    list_display = [
        "id",
        "seller",
        "status",
        "reason",
        "submitted_at",
        "review_due_at",
        "assigned_to",
        "decided_at",
    ]
    list_filter = ["status", "marketplace"]
    search_fields = ["seller__external_id", "defect__order__order_ref"]
