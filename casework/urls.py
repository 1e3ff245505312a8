from django.urls import path

from casework import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("<str:number>/", views.case_detail, name="detail"),
    path("<str:number>/photos/<int:photo_id>/", views.case_photo, name="photo"),
    path("<str:number>/close/", views.case_close, name="close"),
    path("<str:number>/merge/", views.case_merge, name="merge"),
    path("<str:number>/reclassify/", views.case_reclassify, name="reclassify"),
    path("<str:number>/reveal-phone/", views.case_reveal_phone, name="reveal-phone"),
]
