"""The pages of 评理说事 and 议事会 (/mediation/)."""

from django.urls import include, path

app_name = "mediation"

urlpatterns = [
    # 议事会: the councils' pages (mediation/urls_councils.py).
    path("councils/", include("mediation.urls_councils")),
    # 评理说事: the mediators' pages (mediation/urls_mediations.py).
    path("", include("mediation.urls_mediations")),
]
