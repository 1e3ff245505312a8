"""The dashboards' exports pages (collected in dashboards/urls.py under the "dashboards" namespace)."""

from django.urls import path

from dashboards import views_exports

urlpatterns = [
    path("export/", views_exports.export, name="export"),
    path("exports/<int:pk>/", views_exports.export_job, name="export-job"),
    path("exports/<int:pk>/download/", views_exports.export_download, name="export-download"),
]
