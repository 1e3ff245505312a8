"""/volunteers/: the points ledger, rewards and bookings (included by volunteers/urls.py)."""

from django.urls import path

from volunteers import views_bookings, views_points

urlpatterns = [
    # The volunteer's own ledger on their phone (/volunteers/me/ links here).
    path("me/points/", views_points.my_points, name="my-points"),
    path("me/points/redeem/", views_points.my_points_redeem, name="my-points-redeem"),
    path("points/", views_points.ranking, name="points-ranking"),
    path("points/volunteers/", views_points.volunteers_list, name="points-volunteers"),
    path("points/volunteers/<int:pk>/", views_points.volunteer_points, name="points-volunteer"),
    path("rewards/", views_points.rewards, name="rewards"),
    path("rewards/stock/", views_points.rewards_stock, name="rewards-stock"),
    path("bookings/", views_bookings.clerk_bookings, name="bookings"),
    path("bookings/cancel/", views_bookings.booking_cancel, name="bookings-cancel"),
    path("bookings/team/", views_bookings.team_bookings, name="bookings-team"),
    path("bookings/team/act/", views_bookings.team_bookings_act, name="bookings-team-act"),
    path("services/", views_bookings.services, name="services"),
    path("services/change/", views_bookings.services_change, name="services-change"),
]
