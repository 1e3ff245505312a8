"""/volunteers/: the social half's pages. Each part adds its own patterns module here."""

app_name = "volunteers"

urlpatterns = []
