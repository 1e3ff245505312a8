"""The needs pages (需求对接), collected in volunteers/urls.py under the "volunteers" namespace."""

from django.urls import path

from volunteers import views_needs

urlpatterns = [
    path("needs/", views_needs.needs_page, name="needs"),
    path("needs/open/", views_needs.open_needs_page, name="needs-open"),
    path("needs/<int:pk>/", views_needs.need_page, name="need"),
    path("needs/<int:pk>/accept/", views_needs.need_accept, name="need-accept"),
    path("needs/<int:pk>/done/", views_needs.need_done, name="need-done"),
    path("needs/<int:pk>/withdraw/", views_needs.need_withdraw, name="need-withdraw"),
    path("needs/<int:pk>/offer/", views_needs.need_offer, name="need-offer"),
]
