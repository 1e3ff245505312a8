"""议事会 pages, under /mediation/councils/ (namespace `mediation`)."""

from django.urls import path

from mediation import views_councils as views

urlpatterns = [
    path("", views.council_list, name="councils"),
    path("<int:pk>/", views.council_detail, name="council"),
    path("<int:pk>/propose/", views.council_propose, name="council-propose"),
    path("<int:pk>/meetings/new/", views.council_meeting_new, name="council-meeting-new"),
    path("meetings/<int:pk>/", views.council_meeting, name="council-meeting"),
    path("meetings/<int:pk>/publish/", views.council_meeting_publish, name="council-meeting-publish"),
    path("meetings/<int:pk>/notice/", views.council_notice, name="council-notice"),
    path("items/<int:pk>/case/", views.council_item_case, name="council-item-case"),
    path("items/<int:pk>/task/", views.council_item_task, name="council-item-task"),
]
