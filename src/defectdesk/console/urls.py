"""Reviewer pages under /review/ and operator pages under /operator/."""

from django.urls import path

from defectdesk.console import operator_views, review_views, stripe_views, webhook_views

urlpatterns = [
    path("review/", review_views.queue, name="review_queue"),
    path("review/stats/", review_views.stats, name="review_stats"),
    path("review/appeals/<int:appeal_id>/", review_views.appeal_page, name="review_appeal"),
    path(
        "review/appeals/<int:appeal_id>/assign/",
        review_views.appeal_assign_view,
        name="review_assign",
    ),
    path(
        "review/appeals/<int:appeal_id>/request-info/",
        review_views.appeal_request_info_view,
        name="review_request_info",
    ),
    path(
        "review/appeals/<int:appeal_id>/decide/",
        review_views.appeal_decide_view,
        name="review_decide",
    ),
    path(
        "review/appeals/<int:appeal_id>/files/<int:file_id>/",
        review_views.appeal_file,
        name="review_file",
    ),
    path("operator/", operator_views.home, name="operator_home"),
    path("operator/marketplaces/", operator_views.marketplaces, name="operator_marketplaces"),
    path("operator/marketplaces/<str:code>/policy/", operator_views.policy, name="operator_policy"),
    path("operator/users/", operator_views.users, name="operator_users"),
    path(
        "operator/users/<int:user_id>/roles/", operator_views.user_roles, name="operator_user_roles"
    ),
    path("operator/tokens/", operator_views.tokens, name="operator_tokens"),
    path(
        "operator/tokens/<int:token_id>/revoke/",
        operator_views.token_revoke_view,
        name="operator_token_revoke",
    ),
    path("operator/audit/", operator_views.audit, name="operator_audit"),
    path("operator/stripe/", stripe_views.stripe_disputes, name="operator_stripe"),
    path("operator/webhooks/", webhook_views.webhooks, name="operator_webhooks"),
    path(
        "operator/webhooks/<int:endpoint_id>/",
        webhook_views.webhook_endpoint,
        name="operator_webhook",
    ),
    path(
        "operator/webhooks/<int:endpoint_id>/rotate/",
        webhook_views.webhook_change_view,
        {"what": "rotate"},
        name="operator_webhook_rotate",
    ),
    path(
        "operator/webhooks/<int:endpoint_id>/disable/",
        webhook_views.webhook_change_view,
        {"what": "disable"},
        name="operator_webhook_disable",
    ),
    path(
        "operator/webhooks/<int:endpoint_id>/enable/",
        webhook_views.webhook_change_view,
        {"what": "enable"},
        name="operator_webhook_enable",
    ),
    path(
        "operator/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/resend/",
        webhook_views.webhook_resend_view,
        name="operator_webhook_resend",
    ),
]
