from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    path("callbacks/", views.callbacks, name="callbacks"),
    path("callbacks/<str:number>/", views.callback, name="callback"),
    path("verifications/", views.verifications, name="verifications"),
    path("verifications/<str:number>/", views.verify, name="verify"),
    path("cases/<str:number>/reopen/", views.reopen, name="reopen"),
    path("cases/<str:number>/close/", views.close_exempted, name="close"),
    path("metrics/", views.metrics_page, name="metrics"),
]
