from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from suqu import home as day
from suqu.health import health_report


@login_required
def home(request):
    """The day's work of each of the person's roles (suqu/home.py)."""
    return render(request, "home.html", {"parts": day.parts_for(request.user)})


@never_cache
def healthz(request):
    """200 when the database, Redis and the Celery heartbeat are all fine (the read replica may be
    degraded: the primary serves its reads); 503 naming what is down."""
    report = health_report()
    return JsonResponse(report, status=503 if report["status"] == "down" else 200)
