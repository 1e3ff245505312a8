from django.urls import path

from routing import views

app_name = "routing"

urlpatterns = [
    path("console/", views.console, name="console"),
    path("console/dispatch/", views.console_dispatch, name="console-dispatch"),
    path("console/bulk/", views.console_bulk, name="console-bulk"),
    path("console/extensions/", views.console_extensions, name="console-extensions"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox-read"),
]
