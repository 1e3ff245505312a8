#!/usr/bin/env python
"""Django's command-line utility for suqu."""

import os
import sys


def main():
    if sys.argv[1:2] == ["suggester"]:
        # The learner on labelled files needs no database, Redis or settings (suggestions/cli.py):
        # it runs before Django is set up, so it works with DATABASE_URL and REDIS_URL unset.
        from suggestions.cli import main as suggester

        sys.exit(suggester(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "suqu.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
