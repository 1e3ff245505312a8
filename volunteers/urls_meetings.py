"""The joint meetings' pages (结邻共建 联席会议) and a unit's contributions, collected in
volunteers/urls.py under the "volunteers" namespace."""

from django.urls import path

from volunteers import views_meetings

urlpatterns = [
    path("meetings/", views_meetings.meetings_page, name="meetings"),
    path("meetings/new/", views_meetings.meeting_new, name="meeting-new"),
    path("meetings/<int:pk>/", views_meetings.meeting_page, name="meeting"),
    path("meetings/problems/<int:pk>/case/", views_meetings.problem_case, name="problem-case"),
    path("meetings/problems/<int:pk>/task/", views_meetings.problem_task, name="problem-task"),
    path("contributions/", views_meetings.contributions_page, name="contributions"),
]
