"""Teams, volunteers and pairings as spreadsheets: a good file is imported, a bad one is reported
line by line and column by column with nothing written, a dry run writes nothing, an export
imports back unchanged; and the same through the admin's pages."""

import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from grids.services import rows_from_file
from tests.volunteers.teams_world import module_teams
from units.models import Membership, Pairing, Unit
from volunteers import imports
from volunteers.models import Team, TeamMember, Volunteer

pytestmark = pytest.mark.django_db

teams = module_teams()


def csv_rows(text):
    return rows_from_file(io.BytesIO(text.encode("utf-8")), "file.csv")


def problems(run, text, **options):
    with translation.override("en"), pytest.raises(imports.ImportProblems) as refused:
        run(rows=csv_rows(text), **options)
    return refused.value.errors


def snapshot():
    return (
        sorted(Unit.objects.values_list("code", "name")),
        sorted(Team.objects.values_list("unit__code", "level", "home__code", "leader_id", "skills")),
        sorted(Volunteer.objects.values_list("phone", "name", "skills")),
        sorted(TeamMember.objects.values_list("team_id", "volunteer_id")),
        sorted(Pairing.objects.values_list("agency_id", "community_id")),
    )


# --- teams --------------------------------------------------------------------------------------

TEAM_HEADER = "code,name,level,home_code,area_code,leader_phone,skills,sponsor_code\n"


def test_a_good_team_file_creates_and_updates_teams(teams):
    result = imports.teams_import(
        rows=csv_rows(
            TEAM_HEADER + "VT-X-RESCUE,应急救援志愿服务分队,特色分队,210111,,13900000002,应急救援、防汛抗灾,D-HOUSING\n"
            "VT-210111001015,金山社区红色先锋志愿服务队,community,210111001015,,13900000001,助老助残,C210111001015\n"
            "VT-210111001,解放街道党员志愿服务队,street,210111001,,,环境整治、应急救援,\n"
        )
    )
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    rescue = Team.objects.select_related("unit", "sponsor", "leader").get(unit__code="VT-X-RESCUE")
    assert (rescue.unit.kind, rescue.unit.name, rescue.level) == (Unit.Kind.SOCIAL, "应急救援志愿服务分队", "special")
    assert (rescue.home, rescue.area, rescue.sponsor) == (
        teams.cast.district,
        teams.cast.district,
        teams.cast.department,
    )
    assert (rescue.leader, rescue.skills) == (teams.member, ["应急救援", "防汛抗灾"])
    # The leader joined the team and heads its unit.
    assert TeamMember.objects.filter(team=rescue, volunteer=teams.member).exists()
    assert Membership.objects.get(unit=rescue.unit, user=teams.member.user).role == Membership.Role.HEAD
    jinshan = Team.objects.select_related("unit").get(unit__code="VT-210111001015")
    assert (jinshan.unit.name, jinshan.skills, jinshan.sponsor) == (
        "金山社区红色先锋志愿服务队",
        ["助老助残"],
        teams.cast.committee,
    )


def test_a_bad_team_file_names_every_problem_by_line_and_column_and_writes_nothing(teams):
    before = snapshot()
    errors = problems(
        imports.teams_import,
        TEAM_HEADER + "VT-NEW,新队,county,210111,,,,\n"  # 2: unknown level
        "VT-NEW2,新队二,street,210111001015,,,,\n"  # 3: a community is no street
        "VT-NEW3,新队三,community,210111001015,210111003,13912345678,,\n"  # 4: area elsewhere, no such volunteer
        "CENTRE,中心队,special,210111,,,,\n"  # 5: a unit that is not a team
        "VT-NEW,重复,special,210111,,,,NOPE\n"  # 6: the same code again, unknown sponsor
        ",,special,210111,,,一个非常非常非常非常非常非常非常长的技能名称,\n",  # 7: no code, no name, a skill too long
    )
    assert errors == [
        (2, "level", "unknown level county: district, street, community or special"),
        (3, "home_code", "A street team has its home in a place of level street; 210111001015 金山社区 is a "
         "community or village."),
        (4, "area_code", "210111003 民主街道 is neither inside the home 210111001015 金山社区 nor around it."),
        (4, "leader_phone", "no volunteer has the phone 13912345678: import the volunteers first"),
        (5, "code", "CENTRE is the code of 区民呼我应中心 (district centre), not a volunteer team"),
        (6, "code", "VT-NEW is already on line 2"),
        (6, "sponsor_code", "unknown unit NOPE"),
        (7, "code", "code is empty"),
        (7, "name", "name is empty"),
        (7, "skills", "The skill 一个非常非常非常非常非常非常非常长的技能名称 is longer than 20 characters."),
    ]  # fmt: skip
    assert snapshot() == before


def test_a_team_file_without_a_required_column_is_refused_at_the_header(teams):
    errors = problems(imports.teams_import, "code,name,level\nVT-NEW,新队,special\n")
    assert errors == [(1, "home_code", "the column is missing")]


def test_a_dry_run_counts_what_would_change_and_writes_nothing(teams):
    before = snapshot()
    result = imports.teams_import(rows=csv_rows(TEAM_HEADER + "VT-NEW,新队,special,210111,,,,\n"), dry_run=True)
    assert (result.created, result.dry_run) == (1, True)
    assert snapshot() == before


def test_the_teams_export_imports_back_unchanged_through_xlsx_with_codes_as_text(teams):
    rows = imports.teams_export(queryset=Team.objects.all())
    assert len(rows) == 5
    file = io.BytesIO()
    imports.rows_to_xlsx(rows, imports.TEAM_COLUMNS, file, sheet_name="teams")
    file.seek(0)
    sheet = load_workbook(file).active
    codes = {row[3].value: row[3].number_format for row in sheet.iter_rows(min_row=2)}
    assert codes["210111001015"] == "@"  # a text cell: Excel keeps all the digits
    file.seek(0)
    before = snapshot()
    result = imports.teams_import(rows=rows_from_file(file, "teams.xlsx"))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 5)
    assert snapshot() == before


# --- volunteers ---------------------------------------------------------------------------------

VOLUNTEER_HEADER = "phone,name,home_code,skills,availability,teams\n"


def test_a_good_volunteer_file_creates_volunteers_with_accounts_and_sets_their_teams(teams):
    result = imports.volunteers_import(
        rows=csv_rows(
            VOLUNTEER_HEADER + "13900000009,赵新人,210111001015,理发、送餐,周末,VT-210111001015、N-CANTEEN\n"
            "13900000002,李志愿,210111001015,送餐,工作日晚上,N-CANTEEN\n"  # leaves 金山社区's team
            "13900000003,王志愿,210111003201,,,VT-210111003201\n"  # as it is
        )
    )
    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    new = Volunteer.objects.select_related("user").get(phone="13900000009")
    assert (new.name, new.home, new.skills, new.availability) == (
        "赵新人",
        teams.cast.community,
        ["理发", "送餐"],
        "周末",
    )
    assert (new.user.username, new.user.has_usable_password()) == ("v13900000009", False)
    assert set(new.teams.values_list("unit__code", flat=True)) == {"VT-210111001015", "N-CANTEEN"}
    assert list(teams.member.teams.values_list("unit__code", flat=True)) == ["N-CANTEEN"]
    teams.member.refresh_from_db()
    assert teams.member.availability == "工作日晚上"


def test_a_bad_volunteer_file_names_every_problem_and_writes_nothing(teams):
    before = snapshot()
    errors = problems(
        imports.volunteers_import,
        VOLUNTEER_HEADER + "1390000000,某人,,,,\n"  # 2: not a mobile number
        "13900000010,,210111001,,,VT-NOPE\n"  # 3: no name, a street as home, no such team
        "13900000010,某人,,,,\n"  # 4: the same phone again
        "13900000001,张志愿,210111001015,,,N-CANTEEN\n",  # 5: would leave the team they lead
    )
    assert errors == [
        (2, "phone", "1390000000 is not a mobile number of 11 digits starting with 13 to 19."),
        (3, "name", "name is empty"),
        (3, "home_code", "210111001 is not a community or village"),
        (3, "teams", "unknown team VT-NOPE"),
        (4, "phone", "13900000010 is already on line 3"),
        (5, "teams", "张志愿 leads VT-210111001015: keep the team, or name another leader first"),
    ]
    assert snapshot() == before


def test_the_volunteers_export_imports_back_unchanged(teams):
    rows = imports.volunteers_export(queryset=Volunteer.objects.all())
    assert [row["phone"] for row in rows] == ["13900000001", "13900000002", "13900000003"]
    assert rows[1]["teams"] == "N-CANTEEN、VT-210111001015"
    file = io.BytesIO()
    imports.rows_to_csv(rows, imports.VOLUNTEER_COLUMNS, file)
    file.seek(0)
    before = snapshot()
    result = imports.volunteers_import(rows=rows_from_file(file, "volunteers.csv"))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert snapshot() == before


# --- pairings (结邻共建) ----------------------------------------------------------------------------


def test_pairings_are_added_and_with_replace_a_communitys_others_removed(teams):
    agency = Unit.objects.create(code="A-COURT", name="区人民法院", kind=Unit.Kind.AGENCY, region=teams.cast.district)
    Pairing.objects.create(agency=teams.cast.department, community=teams.cast.community)
    text = "agency_code,community_code\nA-COURT,210111001015\n"
    result = imports.pairings_import(rows=csv_rows(text), replace=True)
    assert (result.created, result.deleted) == (1, 1)
    assert list(Pairing.objects.filter(community=teams.cast.community).values_list("agency", flat=True)) == [agency.pk]
    rows = imports.pairings_export(queryset=Pairing.objects.all())
    assert rows == [
        {
            "agency_code": "A-COURT",
            "agency_name": "区人民法院",
            "community_code": "210111001015",
            "community_name": "金山社区",
        }
    ]
    again = imports.pairings_import(rows=rows)
    assert (again.created, again.unchanged, again.deleted) == (0, 1, 0)


def test_a_bad_pairing_file_is_refused_whole(teams):
    before = snapshot()
    errors = problems(
        imports.pairings_import,
        "agency_code,community_code\nD-HOUSING,210111001015\nC210111001015,210111003201\nD-HOUSING,210111001\n"
        "D-HOUSING,210111001015\n",
    )
    assert errors == [
        (3, "agency_code", "金山社区居委会 (community or village committee) does not take part in 结邻共建: only "
         "departments, utilities and paired agencies do"),
        (4, "community_code", "210111001 is not a community or village"),
        (5, "agency_code", "D-HOUSING ↔ 210111001015 is already on line 2"),
    ]  # fmt: skip
    assert snapshot() == before


# --- the admin's pages --------------------------------------------------------------------------


@pytest.fixture
def english_admin(admin_client):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return admin_client


def upload(client, url, text, name="file.csv", **options):
    file = SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")
    return client.post(url, {"file": file, **{key: "on" for key, on in options.items() if on}})


def test_the_admin_reports_a_bad_team_file_line_by_line_and_imports_a_good_one(teams, english_admin):
    url = reverse("admin:volunteers_team_import")
    assert url in english_admin.get(reverse("admin:volunteers_team_changelist")).text
    bad = upload(english_admin, url, TEAM_HEADER + "VT-NEW,新队,county,210111,,,,\n")
    assert "<td>2</td><td>level</td><td>unknown level county: district, street, community or special</td>" in bad.text
    assert "The file has 1 problem; nothing was written." in bad.text
    assert not Unit.objects.filter(code="VT-NEW").exists()
    dry = upload(english_admin, url, TEAM_HEADER + "VT-NEW,新队,special,210111,,,,\n", dry_run=True)
    assert "Dry run: nothing was written." in dry.text
    assert not Unit.objects.filter(code="VT-NEW").exists()
    good = upload(english_admin, url, TEAM_HEADER + "VT-NEW,新队,special,210111,,,,\n")
    assert "Imported." in good.text
    assert Team.objects.get(unit__code="VT-NEW").level == Team.Level.SPECIAL
    refused = upload(english_admin, url, "x", name="teams.txt")
    assert refused.context["form"].errors == {"file": ["teams.txt: only .csv and .xlsx files are supported"]}


def test_the_admin_exports_the_selected_volunteers_as_xlsx(teams, english_admin):
    response = english_admin.post(
        reverse("admin:volunteers_volunteer_changelist"),
        {"action": "export_xlsx", "_selected_action": [teams.leader.pk, teams.member.pk]},
    )
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = rows_from_file(io.BytesIO(response.content), "volunteers.xlsx")
    assert [(row["phone"], row["name"]) for row in rows] == [("13900000001", "张志愿"), ("13900000002", "李志愿")]


def test_the_admin_makes_a_team_and_its_unit_in_one_form(teams, english_admin):
    response = english_admin.post(
        reverse("admin:volunteers_team_add"),
        {
            "code": "VT-X-ELDERLY",
            "name": "银龄互助志愿服务分队",
            "level": "special",
            "home": teams.cast.district.pk,
            "area": teams.cast.district.pk,
            "leader": teams.villager.pk,
            "skills": "助老助残\n陪伴聊天",
            "sponsor": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    team = Team.objects.select_related("unit").get(unit__code="VT-X-ELDERLY")
    assert (team.unit.kind, team.unit.name, team.skills) == (
        Unit.Kind.SOCIAL,
        "银龄互助志愿服务分队",
        ["助老助残", "陪伴聊天"],
    )
    assert Membership.objects.filter(unit=team.unit, user=teams.villager.user, role=Membership.Role.HEAD).exists()


def test_the_admin_finds_a_volunteer_by_the_start_of_their_phone(teams, english_admin):
    response = english_admin.get(reverse("admin:volunteers_volunteer_changelist"), {"q": "1390000000"})
    assert {volunteer.name for volunteer in response.context["cl"].result_list} == {"张志愿", "李志愿", "王志愿"}
    response = english_admin.get(reverse("admin:volunteers_volunteer_changelist"), {"q": "李志"})
    assert [volunteer.name for volunteer in response.context["cl"].result_list] == ["李志愿"]


def test_the_pairings_list_links_to_their_import_and_export(teams, english_admin):
    page = english_admin.get(reverse("admin:units_pairing_changelist")).text
    assert reverse("admin:volunteers_pairing_import") in page
    assert reverse("admin:volunteers_pairing_export", args=["xlsx"]) in page
    Pairing.objects.create(agency=teams.cast.department, community=teams.cast.community)
    exported = english_admin.get(reverse("admin:volunteers_pairing_export", args=["csv"]))
    assert exported.content.decode("utf-8-sig").splitlines() == [
        "agency_code,agency_name,community_code,community_name",
        "D-HOUSING,区住房和城乡建设局,210111001015,金山社区",
    ]


# --- the commands -------------------------------------------------------------------------------


def test_the_commands_export_and_import_back_and_a_bad_file_is_refused_with_its_lines(teams, tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "teams.xlsx"
    out = io.StringIO()
    call_command("export_social", "teams", str(path), stdout=out)
    assert "exported 5 teams" in out.getvalue()
    call_command("import_social", "teams", str(path), "--dry-run", stdout=(out := io.StringIO()))
    assert out.getvalue().splitlines()[0] == "0 created, 0 updated, 0 deleted, 5 unchanged"
    bad = tmp_path / "bad.csv"
    bad.write_text(TEAM_HEADER + "VT-NEW,新队,county,210111,,,,\n", encoding="utf-8")
    errors = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError, match="nothing was written"):
        call_command("import_social", "teams", str(bad), stderr=errors)
    assert errors.getvalue().strip() == "line 2: level: unknown level county: district, street, community or special"
    assert not Unit.objects.filter(code="VT-NEW").exists()
