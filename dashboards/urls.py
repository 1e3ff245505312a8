"""/dashboards/: each part keeps its own patterns, all in the "dashboards" namespace."""

from dashboards import urls_exports, urls_insights, urls_mediation, urls_overview, urls_social

app_name = "dashboards"

urlpatterns = [
    *urls_overview.urlpatterns,
    *urls_insights.urlpatterns,
    *urls_exports.urlpatterns,
    *urls_social.urlpatterns,
    *urls_mediation.urlpatterns,
]
