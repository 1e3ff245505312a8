from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("held/", views.held, name="held"),
    path("held/<int:pk>/place/", views.held_place, name="held-place"),
    path("held/<int:pk>/refuse/", views.held_refuse, name="held-refuse"),
]
