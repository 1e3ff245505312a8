"""Cases resolved by the lead unit, waiting for the resident's verdict."""

from handling.services import case_contact, case_resolve
from routing import dispatch
from tests.handling.helpers import dispatched_case, lead, photo, signed_case


def resolved_case(world, **fields):
    """A case the lead unit has contacted the resident about and resolved: rubbish (0201) by
    金山社区's committee, 物业管理 (0103) by 区住房和城乡建设局, 违章建筑 (0101, checked on site)
    by 解放街道's office."""
    case = signed_case(world, **fields) if fields.get("category_code") != "0101" else _street_case(world, **fields)
    clerk = {
        world.committee: world.community_clerk,
        world.department: world.dept_clerk,
        world.street_office: world.street_clerk,
    }[lead(case).unit]
    case_contact(case=case, actor=clerk, method="phone", agreed="约定今天处理")
    case_resolve(case=case, actor=clerk, result_kind="solved", result="已清理完毕", photos=[photo()])
    case.refresh_from_db()
    return case


def _street_case(world, **fields):
    case = dispatched_case(world, **fields)
    dispatch.case_sign(case=case, actor=world.street_clerk)
    case.refresh_from_db()
    return case
