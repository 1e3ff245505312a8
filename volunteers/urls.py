"""/volunteers/: the social half's pages. Each part adds its own patterns module here."""

from django.urls import include, path

app_name = "volunteers"

urlpatterns = [
    # 需求对接, 联席会议 and the paired units' contributions (docs/volunteers.md).
    path("", include("volunteers.urls_needs")),
    path("", include("volunteers.urls_meetings")),
    # 任务发布 and the volunteer's own phone page.
    path("", include("volunteers.urls_tasks")),
    # 志愿活动积分 (the ledger, rankings, corrections, rewards) and 预约服务 (bookings, services).
    path("", include("volunteers.urls_points")),
]
