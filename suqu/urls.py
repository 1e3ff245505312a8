from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.forms import AdminLoginForm
from feedback import views as feedback_views
from notices import views as notices_views
from suqu import views

# The admin's sign-in checks the username's length like the pages' (accounts/forms.py).
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("places/", include("routing.urls_places")),
    path("intake/", include("intake.urls")),
    path("routing/", include("routing.urls")),
    path("handling/", include("handling.urls")),
    path("cases/", include("casework.urls")),
    path("feedback/", include("feedback.urls")),
    path("inbox/", include("notices.urls")),
    path("dashboards/", include("dashboards.urls")),
    # Requests from integrating systems that wait for a dispatcher (docs/integrations.md).
    path("integrations/", include("integrations.urls")),
    # The residents' own page: a mobile number confirmed by SMS, no account (docs/residents.md).
    path("resident/", include("residents.urls")),
    path("volunteers/", include("volunteers.urls")),
    # 评理说事 and 议事会 (docs/mediation.md).
    path("mediation/", include("mediation.urls")),
    # The resident's verdict through the link in their SMS: no account, so no login.
    # `thanks/` first: a token is never that word.
    path("r/thanks/", feedback_views.resident_thanks, name="resident-thanks"),
    path("r/<str:token>/", feedback_views.resident, name="resident"),
    # The resident's page of their case, from the link in their SMS (signed, no account).
    path("s/<str:token>/", notices_views.resident_status, name="resident-status"),
    # Open311 GeoReport v2 for integrating systems, with their API key (docs/integrations.md).
    path("open311/v2/", include("integrations.urls_open311")),
    path("api/v1/", include(("suqu.api_urls", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its set-up script as a file: the CSP allows no inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
