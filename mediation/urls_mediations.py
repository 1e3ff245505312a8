"""评理说事: the mediators' pages (mediation/views.py), at /mediation/."""

from django.urls import path

from mediation import views

urlpatterns = [
    path("", views.mediation_list, name="list"),
    path("new/", views.mediation_new, name="new"),
    path("<int:pk>/", views.mediation_detail, name="detail"),
    path("<int:pk>/schedule/", views.mediation_schedule, name="schedule"),
    path("<int:pk>/session/", views.mediation_session, name="session"),
    path("<int:pk>/agreement/", views.mediation_agreement, name="agreement"),
    path("<int:pk>/no-agreement/", views.mediation_no_agreement, name="no-agreement"),
    path("<int:pk>/sign/", views.mediation_sign, name="sign"),
    path("<int:pk>/break/", views.mediation_break, name="break"),
    path("<int:pk>/refer/", views.mediation_refer, name="refer"),
    path("<int:pk>/close/", views.mediation_close, name="close"),
    path("<int:pk>/agreement/print/", views.agreement_print, name="agreement-print"),
    path("<int:pk>/parties/<int:party_id>/reveal-phone/", views.party_reveal_phone, name="reveal-phone"),
    # A case's "send to mediation", posted from the case page.
    path("cases/<str:number>/send/", views.case_send, name="case-send"),
]
