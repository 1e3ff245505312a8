"""Volunteer teams and their volunteers (一呼百应's people): creating a team (a unit of kind
`social` with its `Team` row), adding a volunteer (with an account of their own that cannot sign
in until a password is set), who is in which team and who leads it; and the reads: who may see
the teams, the team list with its member counts.

A team is a unit so that it can take work like any unit (called in on a case, a task addressed to
it). Its leader is a member who also works in the unit as its head (`units.Membership`), so the
team's work reaches a person. See docs/volunteers.md, "Teams and volunteers".
"""

import re

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Case, Count, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.models import User
from cases.errors import InvalidInput, NotPermitted
from grids.models import Region
from units.models import Membership, Unit
from units.selectors import roles_for
from volunteers.models import Team, TeamMember, Volunteer

# The level of the place a team of each level calls home. A special squad belongs to the district.
HOME_LEVEL = {
    Team.Level.DISTRICT: Region.Level.DISTRICT,
    Team.Level.STREET: Region.Level.STREET,
    Team.Level.COMMUNITY: Region.Level.COMMUNITY,
    Team.Level.SPECIAL: Region.Level.DISTRICT,
}
# A volunteer is reached by SMS: a mainland mobile number.
MOBILE = re.compile(r"1[3-9][0-9]{9}")
SKILL_MAX_LENGTH = 20
# Skills typed in one cell or field: separated by Chinese or Latin commas, 、, semicolons or lines.
SKILL_SEPARATORS = re.compile(r"[,，、;；\n\r]+")
CODE_MAX_LENGTH = Unit._meta.get_field("code").max_length
NAME_MAX_LENGTH = Unit._meta.get_field("name").max_length
VOLUNTEER_NAME_MAX_LENGTH = Volunteer._meta.get_field("name").max_length
AVAILABILITY_MAX_LENGTH = Volunteer._meta.get_field("availability").max_length


# --- Checks every door shares (the admin's forms, the spreadsheet import, the services) -------------


def skills_parse(value) -> list[str]:
    """A list of skills from a list or from text ("助老、环境整治"): trimmed, no blanks, each once,
    in the order given. InvalidInput (field `skills`) for one longer than the column holds."""
    items = value if isinstance(value, list | tuple) else SKILL_SEPARATORS.split(str(value or ""))
    skills = list(dict.fromkeys(item.strip() for item in items if item and item.strip()))
    for skill in skills:
        if len(skill) > SKILL_MAX_LENGTH:
            raise InvalidInput(
                _("The skill %(skill)s is longer than %(max)d characters.") % {"skill": skill, "max": SKILL_MAX_LENGTH},
                "skills",
            )
    return skills


def phone_problem(phone: str) -> str | None:
    if not MOBILE.fullmatch(phone or ""):
        return _("%(phone)s is not a mobile number of 11 digits starting with 13 to 19.") % {"phone": phone or "—"}
    return None


def home_problem(level: str, home: Region) -> str | None:
    """What is wrong with `home` as the home of a team of `level`, or None."""
    wanted = HOME_LEVEL[level]
    if home.level != wanted:
        return _("A %(level)s has its home in a place of level %(wanted)s; %(code)s %(name)s is a %(actual)s.") % {
            "level": Team.Level(level).label,
            "wanted": Region.Level(wanted).label,
            "code": home.code,
            "name": home.name,
            "actual": home.get_level_display(),
        }
    return None


def area_problem(home: Region, area: Region) -> str | None:
    """A team serves its home, a place inside it, or a wider place holding it; never a place on
    another branch (a street team serving another street)."""
    if area.code.startswith(home.code) or home.code.startswith(area.code):
        return None
    return _("%(area)s %(area_name)s is neither inside the home %(home)s %(home_name)s nor around it.") % {
        "area": area.code,
        "area_name": area.name,
        "home": home.code,
        "home_name": home.name,
    }


def _require_admin(actor, permission):
    # The loaders pass no actor: they are the system itself.
    if actor is not None and not actor.has_perm(permission):
        raise NotPermitted(_("Only an administrator of the social forces may do this."))


def volunteer_username(phone: str, taken: set[str]) -> str:
    """The account name of a new volunteer: v + their phone, with -2, -3... when taken."""
    username, n = f"v{phone}", 1
    while username in taken:
        n += 1
        username = f"v{phone}-{n}"
    return username


# --- Writes -------------------------------------------------------------------------------------


@transaction.atomic
def team_create(
    *, code: str, name: str, level: str, home: Region, area: Region | None = None, skills=(), sponsor=None, actor
) -> Team:
    """A new team: its unit (kind `social`, serving its home) and its Team row, in one transaction.
    The unit code is unique over every unit; the home's level follows the team's level (HOME_LEVEL);
    the area is the home, inside it or around it."""
    _require_admin(actor, "volunteers.add_team")
    code, name = (code or "").strip(), (name or "").strip()
    if not code:
        raise InvalidInput(_("Give the team a code."), "code")
    if len(code) > CODE_MAX_LENGTH:
        raise InvalidInput(_("The code is longer than %(max)d characters.") % {"max": CODE_MAX_LENGTH}, "code")
    if not name or len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(_("Give the team a name of at most %(max)d characters.") % {"max": NAME_MAX_LENGTH}, "name")
    if level not in Team.Level.values:
        raise InvalidInput(_("Unknown level %(level)s.") % {"level": level}, "level")
    area = area or home
    for field, problem in (("home", home_problem(level, home)), ("area", area_problem(home, area))):
        if problem:
            raise InvalidInput(problem, field)
    if Unit.objects.filter(code=code).exists():
        raise InvalidInput(_("The code %(code)s is already a unit's.") % {"code": code}, "code")
    unit = Unit.objects.create(code=code, name=name, kind=Unit.Kind.SOCIAL, region=home)
    return Team.objects.create(
        unit=unit, level=level, home=home, area=area, skills=skills_parse(skills), sponsor=sponsor
    )


@transaction.atomic
def volunteer_create(
    *, name: str, phone: str, home: Region | None = None, skills=(), availability: str = "", teams=(), actor
) -> Volunteer:
    """A new volunteer with an account of their own (username v<phone>) that cannot sign in until
    a password is set, in the teams given. One volunteer per phone number."""
    _require_admin(actor, "volunteers.add_volunteer")
    name, phone = (name or "").strip(), (phone or "").strip()
    if not name or len(name) > VOLUNTEER_NAME_MAX_LENGTH:
        raise InvalidInput(
            _("Give the volunteer's name, at most %(max)d characters.") % {"max": VOLUNTEER_NAME_MAX_LENGTH}, "name"
        )
    if problem := phone_problem(phone):
        raise InvalidInput(problem, "phone")
    if len(availability) > AVAILABILITY_MAX_LENGTH:
        raise InvalidInput(
            _("Availability is longer than %(max)d characters.") % {"max": AVAILABILITY_MAX_LENGTH}, "availability"
        )
    if Volunteer.objects.filter(phone=phone).exists():
        raise InvalidInput(_("A volunteer with the phone %(phone)s exists already.") % {"phone": phone}, "phone")
    taken = set(User.objects.filter(username__startswith=f"v{phone}").values_list("username", flat=True))
    user = User.objects.create(
        username=volunteer_username(phone, taken), real_name=name, phone=phone, password=make_password(None)
    )
    volunteer = Volunteer.objects.create(
        user=user, name=name, phone=phone, home=home, skills=skills_parse(skills), availability=availability.strip()
    )
    TeamMember.objects.bulk_create([TeamMember(team=team, volunteer=volunteer) for team in teams])
    return volunteer


@transaction.atomic
def team_member_add(*, team: Team, volunteer: Volunteer, actor) -> bool:
    """Put a volunteer in a team; True if they were not in it yet (twice is once)."""
    _require_admin(actor, "volunteers.add_teammember")
    return TeamMember.objects.get_or_create(team=team, volunteer=volunteer)[1]


@transaction.atomic
def team_member_remove(*, team: Team, volunteer: Volunteer, actor) -> bool:
    """Take a volunteer out of a team. Its leader cannot leave it: name another leader first."""
    _require_admin(actor, "volunteers.delete_teammember")
    if team.leader_id == volunteer.pk:
        raise InvalidInput(_("%(name)s leads this team: name another leader first.") % {"name": volunteer}, "volunteer")
    return TeamMember.objects.filter(team=team, volunteer=volunteer).delete()[0] > 0


@transaction.atomic
def team_leader_set(*, team: Team, volunteer: Volunteer, actor) -> Team:
    """Make a member the team's leader: they become a member if they were not, and the head of the
    team's unit, so that the work addressed to the team reaches them. The former leader stays a
    member (and keeps their unit membership: an administrator removes it if they should go)."""
    _require_admin(actor, "volunteers.change_team")
    team.leader = volunteer
    team.save(update_fields=["leader"])
    leader_follow(team)
    return team


def leader_follow(team: Team) -> None:
    """The team's leader is one of its members and a head of its unit (whoever made them leader:
    the service above, the admin's form, the import)."""
    if team.leader_id is None:
        return
    TeamMember.objects.get_or_create(team=team, volunteer_id=team.leader_id)
    user_id = Volunteer.objects.filter(pk=team.leader_id).values_list("user_id", flat=True).get()
    Membership.objects.update_or_create(user_id=user_id, unit_id=team.unit_id, defaults={"role": Membership.Role.HEAD})


# --- Reads --------------------------------------------------------------------------------------


def may_read_teams(user) -> bool:
    """The team list is for everyone at work in the district (anyone with a posting: unit staff,
    grid workers, dispatchers, officials), administrators, and the volunteers themselves."""
    if not user.is_authenticated:
        return False
    if user.is_staff or roles_for(user):
        return True
    return Volunteer.objects.filter(user=user).exists()


def teams_list() -> QuerySet[Team]:
    """Every team with what a list shows (unit, home, area, leader, sponsor) joined and its member
    count, in one query; ordered by level (district, street, community, special), then unit code.
    The count is a subquery, so a page of 50 counts 50 teams' members, not every team's."""
    members = (
        TeamMember.objects.filter(team=OuterRef("pk")).order_by().values("team").annotate(n=Count("id")).values("n")
    )
    rank = Case(
        *(When(level=level, then=Value(index)) for index, level in enumerate(Team.Level.values)),
        output_field=IntegerField(),
    )
    return (
        Team.objects.select_related("unit", "home", "area", "leader", "sponsor")
        # A community's outline is kilobytes of GeoJSON; no list shows it.
        .defer("home__boundary", "area__boundary")
        .annotate(members_count=Coalesce(Subquery(members), 0), level_rank=rank)
        .order_by("level_rank", "unit__code")
    )


def team_of_volunteer(volunteer: Volunteer, level: str | None = None) -> Team | None:
    """The volunteer's first team (by unit code), of `level` if given."""
    teams = Team.objects.filter(members__volunteer=volunteer).select_related("unit").order_by("unit__code")
    return (teams.filter(level=level) if level else teams).first()
