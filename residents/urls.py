from django.urls import path

from residents import views

app_name = "residents"

urlpatterns = [
    path("", views.start, name="start"),
    path("code/", views.code, name="code"),
    path("leave/", views.leave, name="leave"),
    path("new/", views.new, name="new"),
    path("mine/", views.mine, name="mine"),
    path("cases/<str:number>/", views.case, name="case"),
    path("cases/<str:number>/verdict/", views.verdict, name="verdict"),
    path("map/streets/", views.streets, name="streets"),
    path("map/locate/", views.locate, name="locate"),
]
