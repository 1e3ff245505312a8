"""The dashboards' insights pages (collected in dashboards/urls.py under the "dashboards" namespace)."""

from django.urls import path

from dashboards import views_insights

urlpatterns = [
    path("ranking/", views_insights.ranking_page, name="ranking"),
    path("hotspots/", views_insights.hotspots_page, name="hotspots"),
    path("hotspots/promote/", views_insights.hotspot_promote, name="hotspot-promote"),
    path("monthly-problems/", views_insights.monthly_problems_page, name="monthly-problems"),
]
