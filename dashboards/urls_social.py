"""The social-forces dashboard (collected in dashboards/urls.py under the "dashboards" namespace)."""

from django.urls import path, re_path

from dashboards import views_social

urlpatterns = [
    path("social/", views_social.social_index, name="social"),
    # A district, street or community code.
    re_path(r"^social/(?P<code>[0-9]{6}(?:[0-9]{3}){0,2})/$", views_social.social_page, name="social-place"),
]
