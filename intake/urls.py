from django.urls import path

from intake import views

app_name = "intake"

urlpatterns = [
    path("new/", views.call_new, name="new"),
    path("places/", views.place_options, name="place-options"),
    path("caller-history/", views.caller_history, name="caller-history"),
    path("duplicates/", views.duplicate_candidates, name="duplicates"),
    path("category-suggestions/", views.category_suggestions, name="category-suggestions"),
]
