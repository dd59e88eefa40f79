"""A deterministic generator of realistic Chinese teaching resources for the search benchmark.

Built from the majors catalogue (reslib/orgs/data/majors.csv) and a vocabulary of domain terms per major class plus
general teaching vocabulary. The same (seed, index) always gives the same resource, so SQLite and PostgreSQL runs
index identical data.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAJORS_CSV = ROOT / "reslib" / "orgs" / "data" / "majors.csv"

# Domain terms by major class code (专业类); majors of other classes fall back to their own name's words.
DOMAIN = {
    "4601": ["数控加工", "数控车床", "数控铣床", "加工中心", "机械制图", "公差配合", "刀具选择", "对刀操作", "数控编程",
             "零件测量", "夹具设计", "切削参数", "数控设备", "机床维护", "CAD/CAM", "G代码", "工艺卡片", "车削", "铣削"],
    "4603": ["机电一体化", "可编程控制器", "PLC", "传感器", "电气控制", "液压传动", "气动回路", "伺服电机", "变频器",
             "工业机器人", "自动化生产线", "触摸屏", "单片机", "电机控制"],
    "4607": ["汽车维修", "汽车检测", "发动机", "变速器", "底盘", "制动系统", "新能源汽车", "动力电池", "故障诊断",
             "汽车电气", "车身修复", "汽车保养", "整车装配", "转向系统"],
    "5102": ["Python", "Java", "数据库", "前端开发", "Web开发", "软件测试", "算法", "数据结构", "操作系统", "云计算",
             "大数据", "人工智能", "网络安全", "Linux", "微服务", "MySQL"],
    "5103": ["5G", "通信原理", "光纤通信", "基站", "移动通信", "网络优化", "路由交换", "物联网"],
    "5002": ["汽车维修", "汽车检测", "发动机", "故障诊断", "汽车保养", "底盘", "汽车电气", "车身修复", "钣金喷涂"],
    "5202": ["老年护理", "基础护理", "护理评估", "康复训练", "健康照护", "急救技术", "护理伦理", "慢病管理"],
    "5204": ["中药鉴定", "中药炮制", "中药材", "方剂", "药理", "中医药"],
    "5303": ["会计基础", "财务报表", "成本会计", "税务", "审计", "出纳", "会计信息化", "财务管理"],
    "5307": ["电子商务", "网店运营", "直播电商", "跨境电商", "网络营销", "客户服务", "视觉设计", "数据分析"],
    "5308": ["物流管理", "仓储管理", "供应链", "配送", "库存控制", "运输管理"],
    "5701": ["学前教育", "幼儿游戏", "儿童心理", "幼儿园管理", "保育", "绘本教学"],
    "4403": ["建筑工程", "建筑识图", "施工技术", "建筑材料", "装配式建筑", "BIM", "结构力学", "测量放线"],
    "4405": ["工程造价", "工程计量", "计价软件", "招投标", "合同管理", "造价控制"],
    "5401": ["酒店管理", "前厅服务", "客房服务", "餐饮服务", "宴会设计", "旅游接待"],
}
GENERAL = ["实训", "案例", "教学设计", "课件", "习题", "技能训练", "操作规范", "安全规范", "职业素养", "课程思政",
           "项目实践", "考核标准", "实验指导", "岗位能力", "工匠精神", "1+X证书", "技能竞赛", "企业案例"]
TITLE_PATTERNS = [
    "{a}{s}", "{a}与{b}{s}", "{a}基础{s}", "{a}实训{s}", "{a}中的{b}", "{a}典型案例分析", "{a}操作规范与{b}",
    "基于{b}的{a}{s}", "{a}入门", "{a}项目实践（{n}）", "{a}常见问题解析", "{a}综合训练第{n}讲",
]
SUFFIX = ["微课", "课件", "教学视频", "实训指导书", "习题", "动画", "虚拟仿真", "案例", "教案", "学习任务单"]
SENTENCES = [
    "本资源围绕{a}展开，结合{b}讲解关键要点。", "通过典型任务帮助学生掌握{a}的基本方法。", "内容包括{a}、{b}和{c}。",
    "适用于{m}专业的课堂教学与自主学习。", "配有{c}练习，便于检验学习效果。", "来源于企业真实项目，突出{b}能力培养。",
    "重点介绍{a}的操作流程和注意事项。", "结合{c}标准，培养学生的职业素养。",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌辉宇浩然鹏飞晓东海燕春梅"
PROVINCES = ["江苏", "浙江", "广东", "山东", "四川", "湖南", "湖北", "河南", "福建", "安徽"]
CITIES = ["南京", "苏州", "杭州", "宁波", "广州", "深圳", "济南", "青岛", "成都", "长沙", "武汉", "郑州", "福州", "合肥"]
SCHOOL_KINDS = ["职业技术学院", "工业职业技术学院", "信息职业技术学院", "机电职业技术学院", "交通职业技术学院",
                "商贸职业学院", "卫生职业技术学院", "职业技术大学"]
TYPES = ["text", "slides", "image", "audio", "video", "animation", "simulation", "micro_lesson", "case", "questions"]
AUDIENCE = ["student", "social_learner", "employee"]
LICENCES = ["cc_by", "cc_by_sa", "cc_by_nc", "cc_by_nc_sa", "all_rights_reserved"]


@dataclass
class Major:
    code: str
    name: str
    class_code: str
    class_name: str


# Majors of other fields (2021 catalogue), added to the bench database when missing, so the corpus is not all IT.
EXTRA_MAJORS = [
    ("500211", "汽车检测与维修技术", "5002", "道路运输类"), ("520201", "护理", "5202", "护理类"),
    ("520410", "中药学", "5204", "药学类"), ("530302", "大数据与会计", "5303", "财务会计类"),
    ("530701", "电子商务", "5307", "电子商务类"), ("530802", "现代物流管理", "5308", "物流类"),
    ("570102", "学前教育", "5701", "教育类"), ("440301", "建筑工程技术", "4403", "土建施工类"),
    ("440501", "工程造价", "4405", "建设工程管理类"), ("540106", "酒店管理与数字化运营", "5401", "旅游类"),
    ("510301", "现代通信技术", "5103", "通信类"),
]


def load_majors() -> list[Major]:
    with open(MAJORS_CSV, encoding="utf-8") as fh:
        majors = [Major(r["code"], r["name"], r["class_code"], r["class_name"]) for r in csv.DictReader(fh)]
    known = {m.code for m in majors}
    return majors + [Major(*row) for row in EXTRA_MAJORS if row[0] not in known]


def institutions(count: int = 60) -> list[str]:
    rng = random.Random(7)
    names: list[str] = []
    while len(names) < count:
        name = rng.choice(PROVINCES + CITIES) + rng.choice(SCHOOL_KINDS)
        if name not in names:
            names.append(name)
    return names


@dataclass
class GeneratedResource:
    index: int
    title: str
    keywords: list[str]
    description: str
    authors: list[str]
    institution_ids: list[int]  # indexes into institutions()
    library_index: int
    major: Major
    knowledge_points: list[str]
    resource_type: str
    audience: list[str]
    licence: str
    price_mode: str
    access: str
    created_at: dt.datetime


class Corpus:
    def __init__(self, seed: int = 2026, libraries: int = 200):
        self.seed = seed
        self.majors = load_majors()
        self.institutions = institutions()
        self.library_count = libraries
        # Each library serves one major (its core major), spread over the catalogue.
        self.library_major = [self.majors[i % len(self.majors)] for i in range(libraries)]
        self.start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)

    def vocabulary(self, major: Major) -> list[str]:
        return DOMAIN.get(major.class_code) or [major.name, major.class_name]

    def library_name(self, index: int) -> str:
        major = self.library_major[index]
        return f"{self.institutions[index % len(self.institutions)][:6]}{major.name}专业教学资源库（{index + 1}）"

    def resource(self, i: int) -> GeneratedResource:
        rng = random.Random(self.seed * 1_000_003 + i)
        library_index = rng.randrange(self.library_count)
        major = self.library_major[library_index]
        vocab = self.vocabulary(major)
        a, b, c = rng.sample(vocab, 2) + [rng.choice(GENERAL)]
        title = rng.choice(TITLE_PATTERNS).format(a=a, b=b, s=rng.choice(SUFFIX), n=rng.randint(1, 12))
        keywords = list(dict.fromkeys([a, b, rng.choice(vocab), rng.choice(GENERAL)]))[: rng.randint(2, 4)]
        description = "".join(s.format(a=a, b=b, c=c, m=major.name) for s in rng.sample(SENTENCES, rng.randint(2, 4)))
        authors = [rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2)))
                   for _ in range(rng.randint(1, 3))]
        host = library_index % len(self.institutions)
        institution_ids = sorted({host, rng.randrange(len(self.institutions))})
        points = [f"{rng.choice(vocab)}{rng.choice(['的基本概念', '操作要点', '常见故障', '安全要求', '工作原理'])}"
                  for _ in range(rng.randint(1, 3))]
        roll = rng.random()
        access = "public" if roll < 0.85 else "registered" if roll < 0.95 else "members"
        return GeneratedResource(
            index=i, title=title, keywords=keywords, description=description, authors=authors,
            institution_ids=institution_ids, library_index=library_index, major=major,
            knowledge_points=list(dict.fromkeys(points)), resource_type=rng.choice(TYPES),
            audience=rng.sample(AUDIENCE, rng.randint(1, 2)), licence=rng.choice(LICENCES),
            price_mode="paid" if rng.random() < 0.05 else "free", access=access,
            created_at=self.start + dt.timedelta(minutes=i * 2 + rng.randint(0, 1)),
        )
