from django.contrib.auth import views as auth_views
from django.urls import path

from defectdesk.web import views

urlpatterns = [
    path("signin/", auth_views.LoginView.as_view(template_name="web/signin.html"), name="signin"),
    path("signout/", auth_views.LogoutView.as_view(), name="signout"),
    path("", views.home, name="home"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<str:marketplace>/<str:order_ref>/", views.order_detail, name="order"),
]
