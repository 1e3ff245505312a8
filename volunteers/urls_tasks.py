"""/volunteers/tasks/ (任务发布) and /volunteers/me/, the volunteer's own page."""

from django.urls import path

from volunteers import views_tasks as views

urlpatterns = [
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/new/", views.task_new, name="task-new"),
    path("tasks/campaign/", views.campaign_new, name="campaign-new"),
    path("tasks/<int:pk>/", views.task_detail, name="task"),
    path("tasks/<int:pk>/confirm/", views.task_confirm, name="task-confirm"),
    path("tasks/<int:pk>/photos/<int:signup>/", views.task_photo, name="task-photo"),
    path("tasks/<int:pk>/signup/", views.task_signup, name="task-signup"),
    path("tasks/<int:pk>/signup-team/", views.task_signup_team, name="task-signup-team"),
    path("tasks/<int:pk>/withdraw/", views.task_withdraw, name="task-withdraw"),
    path("tasks/<int:pk>/checkin/", views.task_checkin, name="task-checkin"),
    path("tasks/<int:pk>/checkout/", views.task_checkout, name="task-checkout"),
    path("me/", views.me, name="me"),
]
