"""A small fixed corpus of resident complaints in three kinds, written for these tests: each kind
has its own words, so a learner that works ranks the right kind first on texts it has not seen."""

TRAIN = {
    "heating": [
        "家里暖气不热，室内温度只有十五度",
        "供暖温度不达标，老人孩子冻得受不了",
        "暖气片冰凉，供热公司一直没人来修",
        "楼里暖气漏水，地板都泡了",
        "今年供暖后室温一直上不去",
        "暖气管道有异响，温度也不够",
        "供热不足，家里要开空调取暖",
        "暖气忽冷忽热，请供热站检查",
        "小区供暖停了两天，没有通知",
        "室内温度低于十八度，要求供热公司处理",
    ],
    "garbage": [
        "小区门口垃圾堆成山，好几天没人清运",
        "垃圾桶满了没人倒，气味很大",
        "路边有人乱倒建筑垃圾",
        "垃圾站苍蝇很多，夏天臭气熏天",
        "楼下垃圾没人清理，招老鼠",
        "环卫工人不按时收垃圾",
        "垃圾分类桶被占用，垃圾散落一地",
        "河边堆满生活垃圾，希望清运",
        "垃圾清运车半夜作业噪音大还撒漏",
        "菜市场门口垃圾成堆无人管",
    ],
    "road": [
        "路面塌陷出现大坑，车辆无法通行",
        "道路破损严重，下雨积水很深",
        "井盖缺失，行人容易掉进去",
        "马路上的坑洼很多，电动车经常摔倒",
        "人行道地砖松动翘起",
        "路灯不亮，道路漆黑危险",
        "公路边坡有落石，影响行车安全",
        "道路施工后没有恢复路面",
        "桥面裂缝越来越大，担心安全",
        "村里道路坑坑洼洼，下雨全是泥",
    ],
}
# Texts none of the training texts contain, one kind each.
UNSEEN = [
    ("heating", "我家暖气一点都不热，温度太低了"),
    ("garbage", "单元门口的垃圾已经一周没有清运"),
    ("road", "这条路破了好几个大坑，积水没法走"),
]


def rows():
    return [(text, label) for label, texts in TRAIN.items() for text in texts]
