from django.urls import path

from handling import views

app_name = "handling"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("queue/sign/", views.queue_sign, name="queue-sign"),
    path("cases/<str:number>/", views.workspace, name="workspace"),
    path("cases/<str:number>/sign/", views.sign, name="sign"),
    path("cases/<str:number>/contact/", views.contact, name="contact"),
    path("cases/<str:number>/note/", views.note, name="note"),
    path("cases/<str:number>/resolve/", views.resolve, name="resolve"),
    path("cases/<str:number>/return/", views.return_case, name="return"),
    path("cases/<str:number>/pass-down/", views.pass_down, name="pass-down"),
    path("cases/<str:number>/assist/", views.assist, name="assist"),
    path("cases/<str:number>/extend/", views.extend, name="extend"),
    path("cases/<str:number>/extend/decide/", views.decide, name="decide"),
    path("cases/<str:number>/report/", views.report, name="report"),
]
