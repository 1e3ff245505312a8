"""The Celery app: Redis is the broker, settings come from Django's (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "suqu.settings")

app = Celery("suqu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
