"""The Seller Center's pages."""

from django.contrib.auth import views as auth_views
from django.urls import path

from defectdesk.web import (
    account,
    appeals,
    context,
    health,
    metric_pages,
    orders,
    probe,
    two_factor,
)

urlpatterns = [
    path("signin/", auth_views.LoginView.as_view(template_name="web/signin.html"), name="signin"),
    path("signout/", auth_views.LogoutView.as_view(), name="signout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(template_name="web/password_change.html"),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="web/password_change_done.html"),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            template_name="web/password_reset.html",
            email_template_name="web/password_reset_email.txt",
            subject_template_name="web/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="web/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="web/password_reset_confirm.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="web/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("two-factor/", two_factor.start, name="two_factor"),
    path("two-factor/setup/", two_factor.setup, name="two_factor_setup"),
    path("two-factor/verify/", two_factor.verify, name="two_factor_verify"),
    path("healthz", probe.healthz, name="healthz"),
    path("readyz", probe.readyz, name="readyz"),
    path("", health.account_health, name="home"),
    path("health/appealable/", metric_pages.appealable, name="appealable"),
    path("health/<str:metric>/", metric_pages.metric_list, name="metric_list"),
    path("orders/", orders.order_list, name="orders"),
    path("orders/export.csv", orders.order_export, name="orders_export"),
    path("orders/<str:marketplace>/<str:order_ref>/", orders.order_detail, name="order"),
    path(
        "orders/<str:marketplace>/<str:order_ref>/reply/",
        orders.order_reply,
        name="order_reply",
    ),
    path("defects/<int:defect_id>/appeal/", appeals.appeal_new, name="appeal_new"),
    path("appeals/", appeals.appeal_list, name="appeals"),
    path("appeals/<int:appeal_id>/", appeals.appeal_detail, name="appeal"),
    path("appeals/<int:appeal_id>/reply/", appeals.appeal_reply_view, name="appeal_reply"),
    path("appeals/<int:appeal_id>/withdraw/", appeals.appeal_withdraw_view, name="appeal_withdraw"),
    path("messages/", account.message_list, name="messages"),
    path("notifications/", account.notification_list, name="notifications"),
    path("notifications/read/", account.notification_read, name="notifications_read"),
    path("marketplace/", context.marketplace_switch, name="marketplace_switch"),
    path("sellers/", context.seller_search, name="sellers"),
    path("settings/you/", context.preferences, name="preferences"),
    path("language/", context.language_switch, name="language_switch"),
    path("glossary/", context.glossary, name="glossary"),
    path("settings/users/", account.user_list, name="users"),
    path("invitations/<str:key>/", account.invitation, name="invitation"),
    path("settings/tokens/", account.token_list, name="tokens"),
    path("settings/tokens/<int:token_id>/revoke/", account.token_revoke_view, name="token_revoke"),
]
