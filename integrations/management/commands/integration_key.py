from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from cases.errors import InvalidInput
from integrations.models import ApiKey, System
from integrations.services import key_issue, key_revoke, system_ensure

# `--scope open311` is what an Open311 client needs: create requests and read its own.
ALIASES = {"open311": [ApiKey.Scope.CREATE, ApiKey.Scope.READ_OWN]}


class Command(BaseCommand):
    help = (
        "Issue an API key to an integrating system (created if new; the key is printed on the last "
        "line, once), or revoke one with --revoke KEY (the key or its prefix)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--system", required=True, help="The system's name, as in its URLs (city12345).")
        parser.add_argument(
            "--scope",
            action="append",
            choices=sorted([*ALIASES, *ApiKey.Scope.values]),
            help="What the key may do; repeat for several. Default: open311 (create, read_own).",
        )
        parser.add_argument("--revoke", metavar="KEY", help="Revoke this key (or the key with this prefix).")

    def handle(self, *args, system, scope, revoke, **options):
        if revoke:
            found = System.objects.filter(name=system).first()
            if found is None:
                raise CommandError(f"no system called {system!r}")
            try:
                with translation.override("en"):
                    key = key_revoke(key=revoke, system=found)
            except InvalidInput as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"revoked {key.prefix}… of {system} at {key.revoked_at:%Y-%m-%d %H:%M:%S %Z}")
            return
        scopes = [s for name in (scope or ["open311"]) for s in ALIASES.get(name, [name])]
        target = system_ensure(name=system)
        key, raw = key_issue(system=target, scopes=scopes)
        self.stdout.write(f"issued {key.prefix}… to {system}: {', '.join(key.scopes)}")
        self.stdout.write(raw)
