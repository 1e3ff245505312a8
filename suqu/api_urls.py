"""/api/v1/: every app's API, and the token endpoint for integrations."""

from django.urls import include, path
from django.views.decorators.gzip import gzip_page
from rest_framework.routers import DefaultRouter

from accounts import api as accounts_api
from cases import api as cases_api
from casework import api as casework_api
from dashboards import api as dashboards_api
from feedback import api as feedback_api
from handling import api as handling_api
from intake import api as intake_api
from integrations import api as integrations_api
from mediation import api as mediation_api
from mediation import api_councils as mediation_councils_api
from notices import api as notices_api
from routing import api as routing_api
from suggestions import api as suggestions_api
from volunteers import api_points as volunteers_points_api
from volunteers import api_tasks as volunteers_tasks_api
from volunteers import api_teams as volunteers_api_teams

router = DefaultRouter()
router.register("regions", routing_api.RegionViewSet, basename="region")
router.register("units", routing_api.UnitViewSet, basename="unit")
router.register("categories", cases_api.CategoryViewSet, basename="category")
router.register("cases", casework_api.CaseViewSet, basename="case")
router.register("volunteer-teams", volunteers_api_teams.TeamViewSet, basename="volunteer-team")

urlpatterns = [
    path("auth/token/", accounts_api.token_obtain, name="token"),
    path("me/", routing_api.me, name="me"),
    path("calls/", intake_api.calls, name="calls"),
    # Categories suggested for what a caller said (docs/suggestions.md).
    path("suggestions/", suggestions_api.suggestions, name="suggestions"),
    # Work orders from integrating systems (the city's 12345), with their API key (docs/integrations.md).
    path("integrations/<str:system>/orders/", integrations_api.orders, name="integration-orders"),
    path("integrations/<str:system>/orders/<str:external_id>/", integrations_api.order, name="integration-order"),
    # Lifecycle actions: POST /cases/<number>/<action>/, all in casework/api.py, each the service of its stage.
    path("cases/<str:number>/merge/", casework_api.case_merge, name="case-merge"),
    path("cases/<str:number>/reveal_phone/", casework_api.case_reveal_phone, name="case-reveal-phone"),
    path("cases/<str:number>/dispatch/", casework_api.case_dispatch, name="case-dispatch"),
    path("cases/<str:number>/redispatch/", casework_api.case_redispatch, name="case-redispatch"),
    path("cases/<str:number>/sign/", casework_api.case_sign, name="case-sign"),
    path("cases/<str:number>/return/", casework_api.case_return, name="case-return"),
    path("cases/<str:number>/reclassify/", casework_api.case_reclassify, name="case-reclassify"),
    path("cases/<str:number>/assist/", casework_api.case_assist, name="case-assist"),
    path("cases/<str:number>/extend/", casework_api.case_extend, name="case-extend"),
    path("cases/<str:number>/extend/decide/", casework_api.case_extend_decide, name="case-extend-decide"),
    path("cases/<str:number>/urge/", casework_api.case_urge, name="case-urge"),
    path("cases/<str:number>/set_deadline/", casework_api.case_set_deadline, name="case-set-deadline"),
    path("cases/<str:number>/contact/", casework_api.case_contact, name="case-contact"),
    path("cases/<str:number>/note/", casework_api.case_note, name="case-note"),
    path("cases/<str:number>/resolve/", casework_api.case_resolve, name="case-resolve"),
    path("cases/<str:number>/report/", casework_api.case_report, name="case-report"),
    path("cases/<str:number>/callback/", casework_api.case_callback, name="case-callback"),
    path("cases/<str:number>/verify/", casework_api.case_verify, name="case-verify"),
    path("cases/<str:number>/reopen/", casework_api.case_reopen, name="case-reopen"),
    # Closing at any stage: the closing move the lifecycle allows from the case's status.
    path("cases/<str:number>/close/", casework_api.case_close, name="case-close"),
    # 评理说事 (mediation/api.py): a case sent to a point; mediations, their moves and parties.
    path("cases/<str:number>/mediate/", mediation_api.case_mediate, name="case-mediate"),
    path("mediations/", mediation_api.mediations, name="mediations"),
    path("mediations/<str:mediation>/", mediation_api.mediation, name="mediation"),
    path("mediations/<str:mediation>/schedule/", mediation_api.mediation_schedule, name="mediation-schedule"),
    path("mediations/<str:mediation>/session/", mediation_api.mediation_session, name="mediation-session"),
    path("mediations/<str:mediation>/agreement/", mediation_api.mediation_agreement, name="mediation-agreement"),
    path(
        "mediations/<str:mediation>/no_agreement/", mediation_api.mediation_no_agreement, name="mediation-no-agreement"
    ),
    path("mediations/<str:mediation>/sign/", mediation_api.mediation_sign, name="mediation-sign"),
    path("mediations/<str:mediation>/break/", mediation_api.mediation_break, name="mediation-break"),
    path("mediations/<str:mediation>/refer/", mediation_api.mediation_refer, name="mediation-refer"),
    path("mediations/<str:mediation>/close/", mediation_api.mediation_close, name="mediation-close"),
    path(
        "mediations/<str:mediation>/parties/<str:party>/reveal_phone/",
        mediation_api.party_reveal_phone,
        name="mediation-party-reveal-phone",
    ),
    path("queue/", handling_api.queue, name="queue"),
    path("inbox/", notices_api.inbox, name="inbox"),
    path("inbox/read/", notices_api.inbox_read, name="inbox-read"),
    path("callbacks/", feedback_api.callbacks, name="callbacks"),
    path("metrics/", feedback_api.metrics_view, name="metrics"),
    path("routing/preview/", routing_api.routing_preview, name="routing-preview"),
    path("stats/summary/", dashboards_api.summary, name="stats-summary"),
    path("stats/ranking/", dashboards_api.ranking_view, name="stats-ranking"),
    # Before the router: its regions/<code>/ would take "geojson" and "locate" for codes.
    path("regions/geojson/", gzip_page(routing_api.regions_geojson), name="regions-geojson"),
    path("regions/locate/", routing_api.regions_locate, name="regions-locate"),
    path("regions/<str:code>/boundary/", gzip_page(routing_api.region_boundary), name="region-boundary"),
    # 任务发布 (volunteers/api_tasks.py): publish and list; a volunteer's place; the publisher's confirmation.
    path("tasks/", volunteers_tasks_api.tasks, name="tasks"),
    path("tasks/<str:task>/signup/", volunteers_tasks_api.task_signup, name="task-signup"),
    path("tasks/<str:task>/team-signup/", volunteers_tasks_api.task_signup_team, name="task-signup-team"),
    path("tasks/<str:task>/withdraw/", volunteers_tasks_api.task_withdraw, name="task-withdraw"),
    path("tasks/<str:task>/checkin/", volunteers_tasks_api.task_checkin, name="task-checkin"),
    path("tasks/<str:task>/checkout/", volunteers_tasks_api.task_checkout, name="task-checkout"),
    path("tasks/<str:task>/confirm/", volunteers_tasks_api.task_confirm, name="task-confirm"),
    # The volunteer's own profile and points ledger (volunteers/api_points.py).
    path("volunteers/me/", volunteers_points_api.me, name="volunteer-me"),
    path("volunteers/me/points/", volunteers_points_api.my_points, name="volunteer-me-points"),
    # 议事会 (mediation/api_councils.py): the councils; a council's meetings, recorded with their votes.
    path("councils/", mediation_councils_api.councils, name="councils"),
    path("councils/<str:council>/meetings/", mediation_councils_api.council_meetings, name="council-meetings"),
    path("", include(router.urls)),
]
