"""Cases judged by the resident, led by a unit chosen by the test: the rankings' raw material."""

import datetime

from feedback import services
from handling.services import case_contact, case_resolve
from routing import dispatch
from tests.factories import UnitFactory, UserFactory, member, open_case
from tests.handling.helpers import SHANGHAI

VERDICTS = {
    # response 1, resolution 1, satisfaction 1: composite 100
    "satisfied": {"reached": True, "resolved": True, "satisfaction": "satisfied"},
    # satisfaction 0.8: composite 30 + 35 + 28 = 93
    "basically": {"reached": True, "resolved": True, "satisfaction": "basically"},
    # resolution 0, satisfaction 0: composite 30 (the case goes back to the unit: a redo)
    "unsatisfied": {"reached": True, "resolved": False, "satisfaction": "unsatisfied", "comment": "没修好"},
}


def tuesday(month, day=10, hour=10):
    return datetime.datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def department(code, name, kind="department"):
    """A department (or utility) with one clerk; returns (unit, clerk)."""
    unit = UnitFactory(code=code, name=name, kind=kind)
    clerk = member(UserFactory(username=f"t_{code.lower()}", real_name=f"{name}办事员"), unit)
    return unit, clerk


def judged_case(world, unit, clerk, verdict="satisfied", *, exempt=False, **fields):
    """A 物业管理 case dispatched to `unit`, signed, contacted and resolved at once, then called
    back with `verdict` (or, with `exempt`, closed by the dispatcher with an exemption)."""
    case = open_case(world, category_code=fields.pop("category_code", "0103"), **fields)
    dispatch.case_dispatch(case=case, unit=unit)
    dispatch.case_sign(case=case, actor=clerk)
    case_contact(case=case, actor=clerk, method="phone", agreed="约定上门")
    case_resolve(case=case, actor=clerk, result_kind="solved", result="已处理")
    case.refresh_from_db()
    if exempt:
        return services.case_exempt(case=case, actor=world.dispatcher, reason="historical", note="历史遗留问题")
    return services.case_callback(case=case, actor=world.dispatcher, **VERDICTS[verdict])
