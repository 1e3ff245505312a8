"""The dashboards' overview pages (collected in dashboards/urls.py under the "dashboards" namespace)."""

from django.urls import path, re_path

from dashboards import views, views_grids

urlpatterns = [
    path("", views.index, name="index"),
    path("my-grids/", views_grids.my_grids, name="my-grids"),
    # Only a region code (6, 9, 12 or 15 digits): the other parts' pages live beside these.
    re_path(r"^(?P<code>[0-9]{6}(?:[0-9]{3}){0,3})/$", views.overview, name="overview"),
]
