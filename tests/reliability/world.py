"""Migrate the database named by DATABASE_URL and load the tests' world into it: the cast of
tests/factories.py, the seeded categories and routing_setup. Run as a process of its own for a
throw-away cluster (`python -m tests.reliability.world PASSWORD`); the dispatcher signs in with
PASSWORD, hashed the way production hashes (the demo password is refused with DEBUG off).
"""

import os
import sys


def main(password):
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "suqu.settings")
    django.setup()
    from django.core.management import call_command

    from cases.services import categories_load
    from tests.factories import make_cast, routing_setup

    call_command("migrate", "--noinput", verbosity=0)
    categories_load()
    cast = make_cast()
    routing_setup(cast)
    cast.dispatcher.set_password(password)
    cast.dispatcher.save(update_fields=["password"])


if __name__ == "__main__":
    main(sys.argv[1])
