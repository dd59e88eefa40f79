from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.ResLibLoginView.as_view(), name="login"),
    path("logout/", views.ResLibLogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    path("profile/", views.profile, name="profile"),
    path("tokens/", views.create_token, name="token_create"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="token_revoke"),
]
