from django.urls import path

from routing import views

app_name = "places"

urlpatterns = [
    path("", views.places_index, name="index"),
    path("<str:code>/", views.region_detail, name="region"),
]
