from django.urls import path

from routing import views

app_name = "routing"

urlpatterns = [
    path("pick/<str:kind>/", views.pick, name="pick"),
    path("console/", views.console, name="console"),
    path("console/dispatch/", views.console_dispatch, name="console-dispatch"),
    path("console/bulk/", views.console_bulk, name="console-bulk"),
    path("console/extensions/", views.console_extensions, name="console-extensions"),
    path("supervision/", views.supervision, name="supervision"),
    path("supervision/<str:number>/urge/", views.supervision_urge, name="supervision-urge"),
    path("supervision/<str:number>/reassign/", views.supervision_reassign, name="supervision-reassign"),
    path("supervision/<str:number>/deadline/", views.supervision_deadline, name="supervision-deadline"),
]
