"""A small fixed history for the suggester: closed cases of three categories, each told in its own
words, most of which are not the categories' keywords (so a right answer on a new text is the
model's, not the keywords'). 环境卫生 (0201), 违章建筑 (0101) and 物业管理 (0103) are the three
categories `tests.factories.routing_setup` has rules for: the grid's committee, the street
office, 区住房和城乡建设局. (The learner's own corpus, without Django, is `corpus.py`.)"""

import itertools
from datetime import timedelta

from django.utils import timezone

from cases.models import Case, Category
from cases.services import title_from

PLACES = ["金山社区3号楼", "幸福家园小区", "民主村东头", "解放街道12号院", "南环路和平里", "铁路宿舍"]
WORDS = {
    "0201": [
        "餐厨废物满溢出来，臭味熏天，苍蝇乱飞",
        "污水横流，臭气很大，好几天没人收走",
        "楼道口堆满杂物和废纸箱，又脏又臭",
        "果皮纸屑满地，臭味招来很多苍蝇蚊子",
        "门口的废物桶满了也不倒，臭味散不掉",
    ],
    "0101": [
        "有人在楼顶偷偷盖了一间铁皮屋",
        "一楼住户把院子砌墙圈起来盖了房子",
        "邻居阳台外扩，用铁皮和砖头搭出一大块",
        "有人占用公共空地砌墙盖棚子",
        "楼顶又盖起两间砖房，没有任何手续",
    ],
    "0103": [
        "管家不作为，报修一个月没人来修",
        "门岗随便放外人进来，收费却年年涨",
        "管家收了钱不办事，楼道灯坏了半年没人管",
        "报修热线总打不通，管家服务态度很差",
        "收费不透明，管家对业主投诉一概不理",
    ],
}
# Texts none of the cases said, with the category each should suggest first.
UNSEEN = {
    "0201": "花园小区路边餐厨废物好几天没人收，臭味熏天苍蝇成群",
    "0101": "隔壁楼顶有人偷偷砌墙盖了一间铁皮房",
    "0103": "我们小区管家不作为，报修电话没人接，收费还涨了",
}


def history():
    """(category code, text) for each closed case: 6 places × 5 ways × 3 categories = 90."""
    return [
        (code, f"{place}{words}")
        for code, phrases in WORDS.items()
        for place, words in itertools.product(PLACES, phrases)
    ]


def closed_cases(cast, rows, *, closure_reason="satisfied", start=1):
    """Closed cases of grid A with these (category code, text), written directly: the suggester
    reads only their category, text and closure, not how they got there."""
    categories = {category.code: category for category in Category.objects.filter(code__in={c for c, _t in rows})}
    now = timezone.now()
    return Case.objects.bulk_create(
        Case(
            number=f"SJT-20260101-{start + index:05d}",
            status=Case.Status.CLOSED,
            closure_reason=closure_reason,
            closed_at=now - timedelta(minutes=index),
            channel="hotline",
            category=categories[code],
            grid=cast.grid_a,
            title=title_from(text),
            description=text,
            created_by=cast.dispatcher,
        )
        for index, (code, text) in enumerate(rows)
    )
