"""The 评理说事 and 议事会 figures' page (collected in dashboards/urls.py under the "dashboards"
namespace; the figures themselves are `mediation.figures`)."""

from django.urls import path, re_path

from dashboards import views_mediation

urlpatterns = [
    path("mediation/", views_mediation.mediation_index, name="mediation"),
    # A district, street or community code.
    re_path(
        r"^mediation/(?P<code>[0-9]{6}(?:[0-9]{3}){0,2})/$", views_mediation.mediation_page, name="mediation-place"
    ),
]
