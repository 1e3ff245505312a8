"""Teams, volunteers and 结邻共建 pairings as spreadsheets (.xlsx or .csv), in and out, the way the
places are (grids/services.py): every row is checked first, and if any is wrong the import names
each problem by line and column and writes nothing; a dry run checks and counts and writes
nothing; an export imports back unchanged. Formats in docs/volunteers.md ("Teams and volunteers").
"""

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from cases.errors import InvalidInput, NotPermitted
from grids.models import Region
from units.models import Pairing, Unit
from volunteers.models import Team, TeamMember, Volunteer
from volunteers.teams import (
    AVAILABILITY_MAX_LENGTH,
    CODE_MAX_LENGTH,
    NAME_MAX_LENGTH,
    VOLUNTEER_NAME_MAX_LENGTH,
    area_problem,
    home_problem,
    leader_follow,
    phone_problem,
    skills_parse,
    volunteer_username,
)

TEAM_COLUMNS = ("code", "name", "level", "home_code", "area_code", "leader_phone", "skills", "sponsor_code")
TEAM_REQUIRED = ("code", "name", "level", "home_code")
VOLUNTEER_COLUMNS = ("phone", "name", "home_code", "skills", "availability", "teams")
VOLUNTEER_REQUIRED = ("phone", "name")
# The names are there for a person reading the file; the import reads the codes.
PAIRING_COLUMNS = ("agency_code", "agency_name", "community_code", "community_name")
PAIRING_REQUIRED = ("agency_code", "community_code")
COLUMNS = {"teams": TEAM_COLUMNS, "volunteers": VOLUNTEER_COLUMNS, "pairings": PAIRING_COLUMNS}
# Cells a spreadsheet must keep as text: codes and phone numbers (Excel shows 210111001015 as 2.1E+11).
TEXT_COLUMNS = {"code", "home_code", "area_code", "leader_phone", "sponsor_code", "phone", "teams", "community_code"}
# A list in one cell (skills, teams) is written with 、 and read with any of , ， 、 ; ；.
LIST_SEPARATOR = "、"
LIST_SPLIT = re.compile(r"[,，、;；\s]+")
# The level column takes the code or the name the district uses.
LEVEL_ALIASES = {
    "区直": Team.Level.DISTRICT,
    "街道": Team.Level.STREET,
    "社区": Team.Level.COMMUNITY,
    "社区(村)": Team.Level.COMMUNITY,
    "社区（村）": Team.Level.COMMUNITY,
    "村": Team.Level.COMMUNITY,
    "特色分队": Team.Level.SPECIAL,
    "特色": Team.Level.SPECIAL,
}
TEAM_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# The organisations that take part in 结邻共建 (docs/units.md): departments, utilities, agencies.
PAIRED_KINDS = (Unit.Kind.DEPARTMENT, Unit.Kind.UTILITY, Unit.Kind.AGENCY)


class ImportProblems(Exception):
    """The file has problems; nothing was written. `errors`: (line, column, message), line 1 being
    the header and line 2 the first row, sorted by line and then by the file's column order."""

    def __init__(self, errors, columns=()):
        order = {column: index for index, column in enumerate(columns)}
        self.errors = sorted(errors, key=lambda error: (error[0], order.get(error[1], len(order))))
        super().__init__(_("errors found: %(count)d; nothing was written") % {"count": len(self.errors)})


@dataclass
class ImportResult:
    """What an import did, or with `dry_run`, what it would do."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    dry_run: bool = False


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _rows(rows, columns, required):
    """(line, {column: text}) of the non-blank rows; ImportProblems at line 1 when a required
    column is missing from the header."""
    rows = list(rows)
    header = {_text(key).lower() for row in rows[:1] for key in row if key is not None}
    missing = [column for column in required if column not in header]
    if rows and missing:
        raise ImportProblems([(1, column, _("the column is missing")) for column in missing], columns)
    parsed = []
    for line, raw in enumerate(rows, start=2):
        raw = {_text(key).lower(): _text(value) for key, value in raw.items() if key is not None}
        if any(raw.values()):
            parsed.append((line, {column: raw.get(column, "") for column in columns}))
    return parsed, header


def _require(actor, *permissions):
    if actor is not None and not all(actor.has_perm(permission) for permission in permissions):
        raise NotPermitted(_("Only an administrator of the social forces may import this."))


def _take_turns(name):
    # Two imports at once would both find a row missing and both insert it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


def _skills(text, line, errors):
    try:
        return skills_parse(text)
    except InvalidInput as error:
        errors.append((line, "skills", str(error)))
        return []


def _duplicate(key, line, first, errors, column, what):
    if key in first:
        errors.append((line, column, _("%(what)s is already on line %(first)d") % {"what": what, "first": first[key]}))
        return True
    first[key] = line
    return False


# --- Teams ----------------------------------------------------------------------------------------


@transaction.atomic
def teams_import(*, rows: Iterable[dict], dry_run: bool = False, actor=None) -> ImportResult:
    """Create and update teams from a file's rows (TEAM_COLUMNS). A code that is a team's unit
    updates that team (and its unit's name); a new code creates the unit (kind `social`) and the
    team; a social unit without a team gets one. The leader (by phone) must be a volunteer already:
    they join the team and head its unit. All or nothing (ImportProblems)."""
    _require(actor, "volunteers.add_team", "volunteers.change_team")
    parsed, header = _rows(rows, TEAM_COLUMNS, TEAM_REQUIRED)
    result = ImportResult(dry_run=dry_run)
    if not parsed:
        return result
    if not dry_run:
        _take_turns("volunteers.teams_import")

    codes = {row["code"] for _line, row in parsed}
    regions = {
        region.code: region
        for region in Region.objects.filter(
            code__in={row[c] for _line, row in parsed for c in ("home_code", "area_code") if row[c]}
        )
    }
    units = {
        unit.code: unit
        for unit in Unit.objects.filter(
            code__in=codes | {row["sponsor_code"] for _l, row in parsed if row["sponsor_code"]}
        )
    }
    teams = {team.unit.code: team for team in Team.objects.filter(unit__code__in=codes).select_related("unit")}
    phones = Counter()
    leaders = {}
    for volunteer in Volunteer.objects.filter(
        phone__in={row["leader_phone"] for _l, row in parsed if row["leader_phone"]}
    ):
        phones[volunteer.phone] += 1
        leaders[volunteer.phone] = volunteer

    errors, first, checked = [], {}, []
    for line, row in parsed:
        code, name = row["code"], row["name"]
        if not code:
            errors.append((line, "code", _("code is empty")))
        elif len(code) > CODE_MAX_LENGTH or not TEAM_CODE.fullmatch(code):
            errors.append(
                (
                    line,
                    "code",
                    _("code %(code)s: at most %(max)d letters, digits, - _ or .")
                    % {"code": code, "max": CODE_MAX_LENGTH},
                )
            )
        elif not _duplicate(code, line, first, errors, "code", code):
            unit = units.get(code)
            if unit is not None and code not in teams and unit.kind != Unit.Kind.SOCIAL:
                errors.append(
                    (line, "code", _("%(code)s is the code of %(name)s (%(kind)s), not a volunteer team")
                     % {"code": code, "name": unit.name, "kind": unit.get_kind_display()})
                )  # fmt: skip
        if not name:
            errors.append((line, "name", _("name is empty")))
        elif len(name) > NAME_MAX_LENGTH:
            errors.append((line, "name", _("name is longer than %(max)d characters") % {"max": NAME_MAX_LENGTH}))
        level = LEVEL_ALIASES.get(row["level"], row["level"].lower())
        if level not in Team.Level.values:
            errors.append(
                (line, "level", _("unknown level %(level)s: district, street, community or special")
                 % {"level": row["level"] or "—"})
            )  # fmt: skip
            level = None
        home = regions.get(row["home_code"])
        if not row["home_code"]:
            errors.append((line, "home_code", _("home_code is empty")))
        elif home is None:
            errors.append((line, "home_code", _("unknown place %(code)s") % {"code": row["home_code"]}))
        elif level and (problem := home_problem(level, home)):
            errors.append((line, "home_code", problem))
        area = regions.get(row["area_code"]) if row["area_code"] else home
        if row["area_code"] and area is None:
            errors.append((line, "area_code", _("unknown place %(code)s") % {"code": row["area_code"]}))
        elif home is not None and area is not None and (problem := area_problem(home, area)):
            errors.append((line, "area_code", problem))
        leader = None
        if row["leader_phone"]:
            if phones[row["leader_phone"]] > 1:
                errors.append(
                    (
                        line,
                        "leader_phone",
                        _("several volunteers have the phone %(phone)s") % {"phone": row["leader_phone"]},
                    )
                )
            elif row["leader_phone"] not in leaders:
                errors.append(
                    (line, "leader_phone", _("no volunteer has the phone %(phone)s: import the volunteers first")
                     % {"phone": row["leader_phone"]})
                )  # fmt: skip
            else:
                leader = leaders[row["leader_phone"]]
        sponsor = None
        if row["sponsor_code"]:
            sponsor = units.get(row["sponsor_code"])
            if sponsor is None:
                errors.append((line, "sponsor_code", _("unknown unit %(code)s") % {"code": row["sponsor_code"]}))
        skills = _skills(row["skills"], line, errors)
        checked.append((code, name, level, home, area, leader, skills, sponsor))
    if errors:
        raise ImportProblems(errors, TEAM_COLUMNS)

    creates, updates = [], []
    for code, name, level, home, area, leader, skills, sponsor in checked:
        team = teams.get(code)
        new = {
            "level": level,
            "home_id": home.pk,
            "area_id": area.pk,
            "skills": skills,
            "sponsor_id": sponsor.pk if sponsor else None,
        }
        if "leader_phone" in header:
            new["leader_id"] = leader.pk if leader else None
        if "sponsor_code" not in header:
            del new["sponsor_id"]
        if team is None:
            creates.append((code, name, new))
        elif team.unit.name == name and all(getattr(team, key) == value for key, value in new.items()):
            result.unchanged += 1
        else:
            updates.append((team, name, new))
    result.created, result.updated = len(creates), len(updates)
    if dry_run:
        return result

    new_units = [
        Unit(code=code, name=name, kind=Unit.Kind.SOCIAL, region_id=new["home_id"])
        for code, name, new in creates
        if code not in units
    ]
    Unit.objects.bulk_create(new_units)
    units.update((unit.code, unit) for unit in new_units)
    for code, name, _new in creates:
        if units[code].name != name:  # a social unit that had no team: it takes the file's name
            units[code].name = name
            units[code].save(update_fields=["name"])
    created = Team.objects.bulk_create([Team(unit=units[code], **new) for code, _name, new in creates])
    for team, name, new in updates:
        for key, value in new.items():
            setattr(team, key, value)
        team.save()
        if team.unit.name != name:
            team.unit.name = name
            team.unit.save(update_fields=["name"])
    for team in [*created, *(team for team, _name, _new in updates)]:
        leader_follow(team)
    return result


def teams_export(*, queryset: QuerySet[Team]) -> list[dict]:
    """The teams in the import's columns, by unit code."""
    rows = []
    for team in queryset.select_related("unit", "home", "area", "leader", "sponsor").order_by("unit__code"):
        rows.append(
            {
                "code": team.unit.code,
                "name": team.unit.name,
                "level": team.level,
                "home_code": team.home.code,
                "area_code": team.area.code,
                "leader_phone": team.leader.phone if team.leader else "",
                "skills": LIST_SEPARATOR.join(team.skills),
                "sponsor_code": team.sponsor.code if team.sponsor else "",
            }
        )
    return rows


# --- Volunteers -----------------------------------------------------------------------------------


@transaction.atomic
def volunteers_import(*, rows: Iterable[dict], dry_run: bool = False, actor=None) -> ImportResult:
    """Create and update volunteers from a file's rows (VOLUNTEER_COLUMNS), by phone: a new phone
    is a new volunteer with an account of their own that cannot sign in until a password is set
    (username v<phone>). With a `teams` column (team codes), those become the volunteer's teams
    exactly (a team they lead cannot be left out). All or nothing (ImportProblems)."""
    _require(actor, "volunteers.add_volunteer", "volunteers.change_volunteer")
    parsed, header = _rows(rows, VOLUNTEER_COLUMNS, VOLUNTEER_REQUIRED)
    result = ImportResult(dry_run=dry_run)
    if not parsed:
        return result
    if not dry_run:
        _take_turns("volunteers.volunteers_import")
    with_teams = "teams" in header

    phones = {row["phone"] for _l, row in parsed}
    existing = defaultdict(list)
    for volunteer in Volunteer.objects.filter(phone__in=phones).select_related("home"):
        existing[volunteer.phone].append(volunteer)
    homes = {
        region.code: region
        for region in Region.objects.filter(code__in={row["home_code"] for _l, row in parsed if row["home_code"]})
    }
    team_codes = {code for _l, row in parsed for code in LIST_SPLIT.split(row["teams"]) if code}
    teams = dict(Team.objects.filter(unit__code__in=team_codes).values_list("unit__code", "pk"))
    current = defaultdict(set)
    led = defaultdict(set)
    ids = [v.pk for vs in existing.values() for v in vs]
    for volunteer_id, team_id in TeamMember.objects.filter(volunteer_id__in=ids).values_list("volunteer_id", "team_id"):
        current[volunteer_id].add(team_id)
    for team_id, leader_id, code in Team.objects.filter(leader_id__in=ids).values_list("pk", "leader_id", "unit__code"):
        led[leader_id].add((team_id, code))

    errors, first, checked = [], {}, []
    for line, row in parsed:
        phone, name = row["phone"], row["name"]
        volunteer = None
        if problem := phone_problem(phone):
            errors.append((line, "phone", problem))
        elif not _duplicate(phone, line, first, errors, "phone", phone):
            if len(existing[phone]) > 1:
                errors.append((line, "phone", _("several volunteers have the phone %(phone)s") % {"phone": phone}))
            elif existing[phone]:
                volunteer = existing[phone][0]
        if not name:
            errors.append((line, "name", _("name is empty")))
        elif len(name) > VOLUNTEER_NAME_MAX_LENGTH:
            errors.append(
                (line, "name", _("name is longer than %(max)d characters") % {"max": VOLUNTEER_NAME_MAX_LENGTH})
            )
        home = None
        if row["home_code"]:
            home = homes.get(row["home_code"])
            if home is None or home.level != Region.Level.COMMUNITY:
                errors.append(
                    (line, "home_code", _("%(code)s is not a community or village") % {"code": row["home_code"]})
                )
        skills = _skills(row["skills"], line, errors)
        if len(row["availability"]) > AVAILABILITY_MAX_LENGTH:
            errors.append(
                (
                    line,
                    "availability",
                    _("availability is longer than %(max)d characters") % {"max": AVAILABILITY_MAX_LENGTH},
                )
            )
        wanted = None
        if with_teams:
            listed = [code for code in LIST_SPLIT.split(row["teams"]) if code]
            unknown = [code for code in listed if code not in teams]
            if unknown:
                errors.append((line, "teams", _("unknown team %(codes)s") % {"codes": "、".join(unknown)}))
            wanted = {teams[code] for code in listed if code in teams}
            if volunteer is not None:
                dropped = sorted(code for team_id, code in led[volunteer.pk] if team_id not in wanted)
                if dropped:
                    errors.append(
                        (line, "teams", _("%(name)s leads %(codes)s: keep the team, or name another leader first")
                         % {"name": volunteer.name, "codes": "、".join(dropped)})
                    )  # fmt: skip
        checked.append((phone, name, home, skills, row["availability"], wanted, volunteer))
    if errors:
        raise ImportProblems(errors, VOLUNTEER_COLUMNS)

    fields = ["name", *(["home_id"] if "home_code" in header else []), "skills"]
    fields += ["availability"] if "availability" in header else []
    creates, updates, memberships = [], [], {}
    for phone, name, home, skills, availability, wanted, volunteer in checked:
        new = {"name": name, "home_id": home.pk if home else None, "skills": skills, "availability": availability}
        if volunteer is None:
            creates.append((phone, new, wanted or set()))
            continue
        same_fields = all(getattr(volunteer, key) == new[key] for key in fields)
        same_teams = wanted is None or wanted == current[volunteer.pk]
        if same_fields and same_teams:
            result.unchanged += 1
            continue
        for key in fields:
            setattr(volunteer, key, new[key])
        updates.append(volunteer)
        if wanted is not None:
            memberships[volunteer.pk] = wanted
    result.created, result.updated = len(creates), len(updates)
    if dry_run:
        return result

    taken = set(
        User.objects.filter(username__in=[f"v{phone}" for phone, _n, _t in creates]).values_list("username", flat=True)
    )
    users = []
    for phone, new, _teams in creates:
        if f"v{phone}" in taken:
            # Rare (an account named so by hand): the suffixes already taken, for this phone only.
            taken |= set(User.objects.filter(username__startswith=f"v{phone}-").values_list("username", flat=True))
        username = volunteer_username(phone, taken)
        taken.add(username)
        users.append(User(username=username, real_name=new["name"], phone=phone, password=make_password(None)))
    User.objects.bulk_create(users)
    volunteers = Volunteer.objects.bulk_create(
        [Volunteer(user=user, phone=phone, **new) for user, (phone, new, _teams) in zip(users, creates, strict=True)]
    )
    TeamMember.objects.bulk_create(
        [
            TeamMember(team_id=team_id, volunteer=volunteer)
            for volunteer, (_phone, _new, wanted) in zip(volunteers, creates, strict=True)
            for team_id in wanted
        ]
    )
    if updates:
        Volunteer.objects.bulk_update(updates, fields)
        User.objects.bulk_update(
            [User(pk=volunteer.user_id, real_name=volunteer.name) for volunteer in updates], ["real_name"]
        )
    for volunteer_id, wanted in memberships.items():
        TeamMember.objects.filter(volunteer_id=volunteer_id).exclude(team_id__in=wanted).delete()
        TeamMember.objects.bulk_create(
            [TeamMember(team_id=team_id, volunteer_id=volunteer_id) for team_id in wanted - current[volunteer_id]]
        )
    return result


def volunteers_export(*, queryset: QuerySet[Volunteer]) -> list[dict]:
    """The volunteers in the import's columns, by phone, their team codes in one cell."""
    rows = (
        queryset.order_by("phone", "pk")
        .annotate(team_codes=ArrayAgg("teams__unit__code", order_by="teams__unit__code", default=[]))
        .values_list("phone", "name", "home__code", "skills", "availability", "team_codes")
    )
    return [
        {
            "phone": phone,
            "name": name,
            "home_code": home or "",
            "skills": LIST_SEPARATOR.join(skills),
            "availability": availability,
            "teams": LIST_SEPARATOR.join(code for code in codes if code),
        }
        for phone, name, home, skills, availability, codes in rows
    ]


# --- Pairings (结邻共建) -----------------------------------------------------------------------------


@transaction.atomic
def pairings_import(*, rows: Iterable[dict], replace: bool = False, dry_run: bool = False, actor=None) -> ImportResult:
    """Add the file's pairings of agencies (departments, utilities and other paired organisations)
    with communities. With `replace`, each community in the file keeps only the agencies the file
    pairs it with. All or nothing (ImportProblems)."""
    _require(actor, "units.add_pairing", *(["units.delete_pairing"] if replace else []))
    parsed, _header = _rows(rows, PAIRING_COLUMNS, PAIRING_REQUIRED)
    result = ImportResult(dry_run=dry_run)
    if not parsed:
        return result
    if not dry_run:
        _take_turns("volunteers.pairings_import")
    agencies = {unit.code: unit for unit in Unit.objects.filter(code__in={row["agency_code"] for _l, row in parsed})}
    communities = {
        region.code: region for region in Region.objects.filter(code__in={row["community_code"] for _l, row in parsed})
    }
    errors, first, pairs = [], {}, []
    for line, row in parsed:
        agency, community = agencies.get(row["agency_code"]), communities.get(row["community_code"])
        if not row["agency_code"]:
            errors.append((line, "agency_code", _("agency_code is empty")))
        elif agency is None:
            errors.append((line, "agency_code", _("unknown unit %(code)s") % {"code": row["agency_code"]}))
        elif agency.kind not in PAIRED_KINDS:
            errors.append(
                (line, "agency_code", _("%(name)s (%(kind)s) does not take part in 结邻共建: only departments, "
                 "utilities and paired agencies do") % {"name": agency.name, "kind": agency.get_kind_display()})
            )  # fmt: skip
            agency = None
        if not row["community_code"]:
            errors.append((line, "community_code", _("community_code is empty")))
        elif community is None or community.level != Region.Level.COMMUNITY:
            errors.append(
                (line, "community_code", _("%(code)s is not a community or village") % {"code": row["community_code"]})
            )
            community = None
        if agency and community:
            what = f"{agency.code} ↔ {community.code}"
            if not _duplicate((agency.pk, community.pk), line, first, errors, "agency_code", what):
                pairs.append((agency.pk, community.pk))
    if errors:
        raise ImportProblems(errors, PAIRING_COLUMNS)

    community_ids = {community for _agency, community in pairs}
    have = set(Pairing.objects.filter(community_id__in=community_ids).values_list("agency_id", "community_id"))
    new = [pair for pair in pairs if pair not in have]
    doomed = have - set(pairs) if replace else set()
    result.created, result.unchanged, result.deleted = len(new), len(pairs) - len(new), len(doomed)
    if dry_run:
        return result
    Pairing.objects.bulk_create([Pairing(agency_id=a, community_id=c) for a, c in new], ignore_conflicts=True)
    if doomed:
        doomed_q = Q(pk__in=[])
        for agency_id, community_id in doomed:
            doomed_q |= Q(agency_id=agency_id, community_id=community_id)
        Pairing.objects.filter(doomed_q).delete()
    return result


def pairings_export(*, queryset: QuerySet[Pairing]) -> list[dict]:
    """The pairings in the import's columns, by community code then agency code."""
    return [
        {"agency_code": agency, "agency_name": agency_name, "community_code": community, "community_name": name}
        for agency, agency_name, community, name in queryset.order_by("community__code", "agency__code").values_list(
            "agency__code", "agency__name", "community__code", "community__name"
        )
    ]


# --- Files --------------------------------------------------------------------------------------


def rows_to_csv(rows: Iterable[dict], columns, fileobj) -> None:
    """Rows as CSV to a binary file: UTF-8 with a byte-order mark, or Excel reads it as GBK."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    fileobj.write(text.getvalue().encode("utf-8-sig"))


def rows_to_xlsx(rows: Iterable[dict], columns, fileobj, sheet_name="sheet") -> None:
    """Rows as an .xlsx workbook to a binary file; codes and phones are text cells."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_name)
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = 30 if column in ("name", "skills", "teams") else 18
    sheet.append(list(columns))
    for row in rows:
        cells = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=str(row.get(column) or ""))
            if column in TEXT_COLUMNS:
                cell.number_format = "@"
            cells.append(cell)
        sheet.append(cells)
    workbook.save(fileobj)
