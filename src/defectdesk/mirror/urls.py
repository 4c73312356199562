"""Mirror mode's pages, under /amazon/."""

from django.urls import path

from defectdesk.mirror import connector_views, views

urlpatterns = [
    path("amazon/", views.mirror_home, name="mirror_home"),
    path("amazon/add/", views.mirror_account_add, name="mirror_account_add"),
    path("amazon/<int:account_id>/upload/", views.mirror_upload, name="mirror_upload"),
    path("amazon/<int:account_id>/reconcile/", views.mirror_reconcile, name="mirror_reconcile"),
    path("amazon/<int:account_id>/enter/", views.mirror_enter, name="mirror_enter"),
    path("amazon/<int:account_id>/plan/", views.mirror_plan, name="mirror_plan"),
    path(
        "amazon/<int:account_id>/connection/",
        connector_views.mirror_connection,
        name="mirror_connection",
    ),
    path("amazon/defects/<int:defect_id>/request/", views.mirror_case_new, name="mirror_case_new"),
    path("amazon/requests/<int:case_id>/", views.mirror_case, name="mirror_case"),
]
