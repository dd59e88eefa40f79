import datetime as dt

import pytest

from reslib.search import services
from reslib.search.backends.base import SearchDocument

BASE_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

FILLER = [
    ("老年护理实务", ["护理", "养老"], "照护老年人的日常护理技能。", "520802"),
    ("会计基础与实务", ["会计"], "会计要素与借贷记账法。", "530302"),
    ("电子商务运营", ["电商", "直播电商"], "网店运营与直播带货。", "530701"),
    ("学前儿童游戏设计", ["学前教育"], "幼儿园游戏活动的组织。", "570102"),
    ("建筑工程识图", ["识图"], "建筑施工图的识读方法。", "440301"),
    ("工程造价软件应用", ["造价"], "广联达软件的计量计价。", "440501"),
    ("Python程序设计入门", ["Python", "编程"], "Python 3 语法、函数与模块。", "510203"),
    ("5G网络部署与优化", ["5G", "通信"], "5G基站的部署、测试与优化。", "510301"),
    ("1+X证书 工业机器人应用编程", ["工业机器人"], "工业机器人示教编程。", "460305"),
    ("酒店前厅服务", ["酒店"], "前台接待与入住登记。", "540106"),
    ("中药鉴定技术", ["中药"], "常见中药材的性状鉴别。", "520410"),
    ("物流仓储管理", ["仓储"], "仓库作业流程与库存控制。", "530802"),
]


def make_doc(pk: int, title: str, *, keywords=(), description="", access="public", library_id=1, rtype="video",
             major="460103", institution=(10,), audience=("student",), days=0, usage=0, rating=None, **extra):
    return SearchDocument(
        id=f"resource:{pk}", title=title, keywords=list(keywords), description=description, library=f"资源库{library_id}",
        majors=[major], resource_type=rtype, attr_resource_type=rtype, major=major, library_id=library_id,
        institution=list(institution), audience=list(audience), licence="cc_by", price_mode="free", access=access,
        created_at=BASE_TIME + dt.timedelta(days=days), usage=usage, rating=rating,
        display={"title": title, "url": f"/resources/{pk}/"}, **extra)


@pytest.fixture
def corpus(db):
    """A small catalogue: relevant documents among filler, with every access level."""
    docs = [make_doc(100 + i, title, keywords=kw, description=desc, major=major, days=i, rtype="text",
                     institution=(20 + i % 3,))
            for i, (title, kw, desc, major) in enumerate(FILLER)]
    docs += [
        make_doc(1, "数控加工工艺基础", keywords=["数控加工", "工艺"], description="数控加工的工艺路线与刀具选择。",
                 days=30, usage=5, rating=4.5),
        make_doc(2, "数控加工中心操作", keywords=["加工中心"], description="加工中心的对刀与程序调试。", days=31,
                 rtype="micro_lesson", usage=9),
        make_doc(3, "机械制图基础", keywords=["制图"], description="顺带介绍数控机床图纸的标注。", days=32),
        make_doc(4, "汽车维修技术实训", keywords=["汽车维修"], description="汽车发动机维修与保养。", days=33,
                 major="500211", institution=(11,), rating=3.0),
        make_doc(5, "汽车发动机拆装", keywords=["发动机"], description="按照汽车维修手册拆装发动机。", days=34,
                 major="500211", institution=(11,)),
        make_doc(6, "数控设备维护保养", keywords=["设备维护"], description="数控设备的日常点检。", days=35),
        # Not for everyone's eyes:
        make_doc(7, "注册用户可见的数控编程讲义", keywords=["数控编程"], access="registered", days=36),
        make_doc(8, "成员专属数控秘籍", keywords=["秘籍"], description="只给资源库成员看的数控内容。",
                 access="members", library_id=2, days=37, rtype="simulation", institution=(12,)),
    ]
    services.index(docs)
    return {d.id: d for d in docs}
