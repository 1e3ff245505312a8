from django.urls import path

from mediation import views_councils
from residents import views, views_bookings

app_name = "residents"

urlpatterns = [
    path("", views.start, name="start"),
    path("code/", views.code, name="code"),
    path("leave/", views.leave, name="leave"),
    path("new/", views.new, name="new"),
    path("mine/", views.mine, name="mine"),
    path("cases/<str:number>/", views.case, name="case"),
    path("cases/<str:number>/verdict/", views.verdict, name="verdict"),
    # 预约服务: a place at a volunteer team's standing service (volunteers/bookings.py).
    path("book/", views_bookings.book, name="book"),
    path("bookings/", views_bookings.mine, name="bookings"),
    path("bookings/cancel/", views_bookings.cancel, name="bookings-cancel"),
    # 议事会: the published meetings' agendas and decisions (mediation/views_councils.py).
    path("councils/", views_councils.public_meetings, name="councils"),
    path("map/streets/", views.streets, name="streets"),
    path("map/locate/", views.locate, name="locate"),
]
