from django.urls import path

from notices import views

app_name = "notices"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read/", views.read, name="read"),
    path("badge/", views.badge, name="badge"),
    path("settings/", views.preferences, name="preferences"),
]
