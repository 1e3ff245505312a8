from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts.services import DEMO_PASSWORD, DemoDataRefused, demo_user_ensure
from integrations.services import demo_systems_load
from mediation.councils_demo import demo_councils_load
from mediation.demo import demo_mediation_load
from routing.services import demo_people_load
from suqu.management.commands.load_reference import REFERENCE_STEPS, run_steps
from volunteers.needs_demo import demo_needs_load
from volunteers.points_demo import demo_points_load
from volunteers.tasks import demo_tasks_load
from volunteers.teams_demo import demo_teams_load


class Command(BaseCommand):
    help = (
        "Load the reference data, then the demo accounts and people (DEBUG only). Safe to run again: "
        "it keeps existing data."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("refusing to create demo accounts with a known password: DEBUG is off")
        try:
            demo_user_ensure(username="admin", real_name="系统管理员", superuser=True)
            run_steps(
                self,
                [
                    *REFERENCE_STEPS,
                    # The places and units just loaded are read by every step after this one.
                    ("statistics", statistics_take),
                    # Before the demo people: each team's leader heads its unit, so no generated head is needed.
                    ("volunteer teams", demo_teams_load),
                    ("demo people", demo_people_load),
                    ("demo systems", demo_systems_load),
                    # 需求对接 and a joint meeting of 金山社区 with its paired agencies.
                    ("demo needs", demo_needs_load),
                    # 任务发布: tasks of 金山社区 for the `volunteer` login, published by `community`.
                    ("demo tasks", demo_tasks_load),
                    # 志愿活动积分 and 预约服务: the rules, 爱心食堂's and the squads' services, 金山社区's rewards.
                    ("demo points and bookings", demo_points_load),
                    # 议事会: 88 councils; the `council` login's 金山社区 council and its last meeting.
                    ("demo councils", demo_councils_load),
                    # 评理说事: 180 points at three levels, their mediators, the `mediator` login.
                    ("demo mediation", demo_mediation_load),
                ],
            )
        except DemoDataRefused as exc:
            raise CommandError(str(exc)) from None
        statistics_take()
        self.stdout.write(self.style.SUCCESS(f"demo data ready; demo accounts use the password {DEMO_PASSWORD}"))


def statistics_take(progress=None) -> dict:
    """Statistics of the tables just filled: in a transaction that loaded them (the tests') no
    autovacuum sees the rows, and a planner that takes the places for empty joins them by nested
    loops (the team list took 22 s, and once over 5 minutes, in a test run).

    The project's tables only: a whole-database ANALYZE also takes the shared catalogues
    (pg_authid), and waited 25 s for a CREATE DATABASE of another test worker. And only those
    holding rows: an ANALYZE of a table whose rows were all deleted or rolled back records it empty
    while its pages remain, and the next load into it would be planned as one row."""
    quoted = [
        connection.ops.quote_name(table)
        for table in connection.introspection.django_table_names(only_existing=True, include_views=False)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT {index} WHERE EXISTS (SELECT FROM {table})" for index, table in enumerate(quoted)
            )
        )
        holding_rows = [quoted[index] for (index,) in cursor.fetchall()]
        cursor.execute("ANALYZE " + ", ".join(holding_rows))
    return {"tables": len(holding_rows)}
