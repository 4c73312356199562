"""Operators' admin: the appeal policy per marketplace, and appeals read-only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from defectdesk.appeals.models import Appeal, AppealPolicy


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
class AppealAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
