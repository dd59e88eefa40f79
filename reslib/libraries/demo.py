"""The demo data set: one province (江苏省), its colleges and enterprises, one user per role, three libraries.

Everything after the very first operator grant goes through the services, so the demo has the audit trail a real
site would have. Institution names of enterprises, the industry body and the research institute are invented;
every credit code is synthetic but valid by GB 32100 (and its organisation-code part valid by GB 11714).
Demo data never loads in production mode (settings.DEBUG False).
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from reslib.accounts import services as account_services
from reslib.accounts.models import RoleGrant, User
from reslib.core import audit
from reslib.orgs.models import Major, Organization, Region
from reslib.orgs.validators import CREDIT_CODE_ALPHABET, credit_code_check_character

from . import services
from .models import Library, TeamMember

PASSWORD = "reslib-demo"
PROVINCE = "320000"

# The accounts a visitor can log in with; the serve script prints these in debug mode.
DEMO_USERNAMES = ("operator", "province", "lead", "builder", "reviewer", "reviewer2", "teacher", "student")

T = Organization.Type

# GB 32100 chars 1-2: registration authority + organisation category.
#   12 = 机构编制 · 事业单位 (public colleges, public research institutes)
#   51 = 民政 · 社会团体 (industry associations)
#   52 = 民政 · 民办非企业单位
#   91 = 工商 · 企业
REGISTRATION = {
    T.HIGHER_VOCATIONAL: "12",
    T.VOCATIONAL_UNDERGRADUATE: "12",
    T.SECONDARY_VOCATIONAL: "12",
    T.RESEARCH_INSTITUTE: "12",
    T.INDUSTRY_BODY: "51",
    T.ENTERPRISE: "91",
}

GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organization_code(body8: str) -> str:
    """GB 11714 organisation code: eight digits/letters plus their check character (0-9 or X)."""
    total = sum(int(ch, 36) * w for ch, w in zip(body8, GB11714_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body8 + {10: "X", 11: "0"}.get(check, str(check))


def demo_credit_code(type_: str, division: str, body8: str) -> str:
    first17 = REGISTRATION[type_] + division + organization_code(body8)
    assert len(first17) == 17 and all(ch in CREDIT_CODE_ALPHABET for ch in first17), first17
    return first17 + credit_code_check_character(first17)


@dataclass(frozen=True)
class DemoOrg:
    key: str
    name: str
    type: str
    city: str
    body8: str
    address: str
    contact_name: str
    contact_phone: str
    contact_email: str

    @property
    def credit_code(self) -> str:
        return demo_credit_code(self.type, self.city, self.body8)


ORGANIZATIONS = [
    DemoOrg("jsit", "江苏信息职业技术学院", T.HIGHER_VOCATIONAL, "320200", "46600821", "无锡市惠山区钱藕路1号",
            "王建国", "0510-83456001", "zyk@jsit.example.edu.cn"),
    DemoOrg("niit", "南京工业职业技术大学", T.VOCATIONAL_UNDERGRADUATE, "320100", "46601153",
            "南京市栖霞区仙林大学城羊山北路1号", "张志强", "025-85864002", "zyk@niit.example.edu.cn"),
    DemoOrg("czimt", "常州机电职业技术学院", T.HIGHER_VOCATIONAL, "320400", "46609734", "常州市武进区鸣新中路26号",
            "周明", "0519-86332003", "zyk@czimt.example.edu.cn"),
    DemoOrg("siit", "苏州工业职业技术学院", T.HIGHER_VOCATIONAL, "320500", "46610285", "苏州市吴中区致能大道1号",
            "吴静", "0512-66560004", "zyk@siit.example.edu.cn"),
    DemoOrg("wxcnc", "无锡澄锐数控科技有限公司", T.ENTERPRISE, "320200", "MA1XK7Q3", "无锡市新吴区菱湖大道88号",
            "钱立新", "0510-85210005", "hr@chengrui-cnc.example.com"),
    DemoOrg("szcloud", "苏州云启信息技术有限公司", T.ENTERPRISE, "320500", "MA1YD2N8", "苏州市工业园区星湖街328号",
            "沈佳怡", "0512-62880006", "edu@yunqi-it.example.com"),
    DemoOrg("njsoft", "南京数衡软件有限公司", T.ENTERPRISE, "320100", "MA1WR5T6", "南京市雨花台区软件大道109号",
            "冯宇", "025-52360007", "school@shuheng-soft.example.com"),
    DemoOrg("czauto", "常州恒拓智能装备有限公司", T.ENTERPRISE, "320400", "MA1UP9L4", "常州市新北区汉江路368号",
            "蒋涛", "0519-85160008", "service@hengtuo-ie.example.com"),
    DemoOrg("assoc", "江苏省智能制造职业教育行业协会", T.INDUSTRY_BODY, "320100", "MJ5K3202", "南京市鼓楼区北京西路15号",
            "韩雪", "025-83300009", "office@js-imve.example.org.cn"),
    DemoOrg("inst", "江苏省先进制造技术应用研究所", T.RESEARCH_INSTITUTE, "320100", "46602418",
            "南京市江宁区将军大道29号", "杨帆", "025-52110010", "office@js-amt.example.ac.cn"),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    real_name: str
    org: str | None
    email: str
    phone: str
    learner_category: str = ""


USERS = [
    DemoUser("operator", "陈思远", None, "operator@reslib.example.cn", "13951000001"),
    DemoUser("province", "刘文华", None, "province@jyt.example.gov.cn", "13951000002"),
    DemoUser("lead", "王建国", "jsit", "lead@jsit.example.edu.cn", "13951000003", User.LearnerCategory.TEACHER),
    DemoUser("builder", "李晓梅", "jsit", "builder@jsit.example.edu.cn", "13951000004", User.LearnerCategory.TEACHER),
    DemoUser("reviewer", "张志强", "jsit", "reviewer@jsit.example.edu.cn", "13951000005",
             User.LearnerCategory.TEACHER),
    # Nobody decides two levels of one request: the lead host review needs a second reviewer of the lead host.
    DemoUser("reviewer2", "黄丽娟", "jsit", "reviewer2@jsit.example.edu.cn", "13951000011",
             User.LearnerCategory.TEACHER),
    DemoUser("teacher", "赵丽华", "czimt", "teacher@czimt.example.edu.cn", "13951000006",
             User.LearnerCategory.TEACHER),
    DemoUser("student", "孙浩然", "jsit", "student@jsit.example.edu.cn", "13951000007",
             User.LearnerCategory.STUDENT),
    # Leads of the other two libraries (not in the printed list, same password).
    DemoUser("zhouming", "周明", "czimt", "zhouming@czimt.example.edu.cn", "13951000008",
             User.LearnerCategory.TEACHER),
    DemoUser("wujing", "吴静", "siit", "wujing@siit.example.edu.cn", "13951000009", User.LearnerCategory.TEACHER),
    DemoUser("qianlixin", "钱立新", "wxcnc", "qianlixin@chengrui-cnc.example.com", "13951000010",
             User.LearnerCategory.EMPLOYEE),
]


class DemoRefused(Exception):
    pass


def _first_of_month(day: datetime.date, months_back: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 - months_back
    return datetime.date(index // 12, index % 12 + 1, 1)


def refuse_unless_debug() -> None:
    if not settings.DEBUG:
        raise DemoRefused("Demo data only loads in debug mode (RESLIB_DEBUG=1); this site runs in production mode.")


def load(*, stdout=None) -> dict:
    """Create the demo data. Refuses in production mode and on a database that already has users."""
    refuse_unless_debug()
    if User.objects.exists():
        raise DemoRefused("The database already has users; demo data only loads into an empty database.")

    def say(msg):
        if stdout is not None:
            stdout.write(msg)

    province = Region.objects.get(code=PROVINCE)
    majors = {m.code: m for m in Major.objects.filter(code__in=[
        "510201", "510202", "510203", "510205", "510209", "460103", "460101", "460301", "460701", "460702",
    ])}
    today = timezone.localdate()

    with transaction.atomic():
        users = {}
        for spec in USERS:
            user = User(username=spec.username, real_name=spec.real_name, email=spec.email, phone=spec.phone,
                        learner_category=spec.learner_category)
            user.set_password(PASSWORD)
            user.save()
            users[spec.username] = user
        operator = users["operator"]
        # Bootstrapping: the first operator cannot be granted by an operator, so it is written here directly,
        # with its audit entry, exactly as `grant_role` would.
        RoleGrant.objects.create(user=operator, role=RoleGrant.Role.OPERATOR)
        audit.record(actor=None, action="account.grant_role", target=operator,
                     after={"role": RoleGrant.Role.OPERATOR, "province": None, "organization": None},
                     reason="demo data")
        account_services.grant_role(by=operator, user=users["province"], role=RoleGrant.Role.PROVINCE_ADMIN,
                                    province=province)
        province_admin = users["province"]

        from reslib.orgs.services import OrganizationData, create_organization

        orgs = {}
        for spec in ORGANIZATIONS:
            orgs[spec.key] = create_organization(
                OrganizationData(name=spec.name, type=spec.type, credit_code=spec.credit_code, province=PROVINCE,
                                 city=spec.city, address=spec.address, contact_name=spec.contact_name,
                                 contact_phone=spec.contact_phone, contact_email=spec.contact_email),
                by=operator,
            )
        by_key = {spec.username: spec.org for spec in USERS}
        for username, user in users.items():
            if by_key[username]:
                user.organization = orgs[by_key[username]]
                user.save(update_fields=["organization"])
        account_services.grant_role(by=operator, user=users["lead"], role=RoleGrant.Role.ORG_ADMIN,
                                    organization=orgs["jsit"])

        # 1. 计算机应用技术 — approved and under construction, with a team.
        computing = services.create_library(services.LibraryApplication(
            name="计算机应用技术专业教学资源库",
            level=Library.Level.PROVINCIAL,
            province=PROVINCE,
            core_major=majors["510201"].pk,
            served_majors=[majors[c].pk for c in ("510202", "510203", "510205", "510209")],
            hosts=[orgs["jsit"].pk, orgs["niit"].pk],
            participants=[orgs["szcloud"].pk, orgs["njsoft"].pk, orgs["assoc"].pk],
            build_start=_first_of_month(today, 7),
            description=(
                "面向计算机应用技术专业群，由江苏信息职业技术学院牵头、南京工业职业技术大学联合主持，"
                "联合软件企业与行业协会共建。资源库按“能学、辅教”定位，建设专业课程、微课、虚拟仿真实训"
                "和企业真实项目案例，服务在校学生、教师、企业员工和社会学习者。"
            ),
        ), by=users["lead"])
        services.add_team_member(computing, by=users["lead"], user=users["builder"], role=TeamMember.Role.BUILDER)
        services.add_team_member(computing, by=users["lead"], user=users["reviewer"], role=TeamMember.Role.REVIEWER)
        services.add_team_member(computing, by=users["lead"], user=users["reviewer2"], role=TeamMember.Role.REVIEWER)
        services.transition_library(computing, "submit", by=users["lead"])
        services.transition_library(computing, "approve", by=province_admin,
                                    reason="申报材料齐全，建设方案可行，同意立项。")
        services.transition_library(computing, "start_building", by=users["lead"])

        # 2. 数控技术 — filed and waiting on the province administrator's workbench.
        cnc = services.create_library(services.LibraryApplication(
            name="数控技术专业教学资源库",
            level=Library.Level.PROVINCIAL,
            province=PROVINCE,
            core_major=majors["460103"].pk,
            served_majors=[majors["460101"].pk, majors["460301"].pk],
            hosts=[orgs["czimt"].pk],
            participants=[orgs["wxcnc"].pk, orgs["czauto"].pk, orgs["inst"].pk],
            build_start=datetime.date(today.year + (today.month >= 9), 9, 1),
            description=(
                "以常州机电职业技术学院数控技术专业为核心，联合数控装备企业和科研院所，建设数控加工工艺、"
                "多轴加工编程、数控设备维护等课程资源与虚拟仿真实训项目。"
            ),
        ), by=users["zhouming"])
        services.add_team_member(cnc, by=users["zhouming"], user=users["qianlixin"], role=TeamMember.Role.BUILDER)
        services.transition_library(cnc, "submit", by=users["zhouming"])

        # 3. 机电一体化技术 — built and accepted.
        mechatronics = services.create_library(services.LibraryApplication(
            name="机电一体化技术专业教学资源库",
            level=Library.Level.PROVINCIAL,
            province=PROVINCE,
            core_major=majors["460301"].pk,
            served_majors=[majors["460701"].pk, majors["460702"].pk],
            hosts=[orgs["siit"].pk, orgs["czimt"].pk],
            participants=[orgs["czauto"].pk, orgs["assoc"].pk],
            build_start=_first_of_month(today, 26),
            description=(
                "苏州工业职业技术学院与常州机电职业技术学院联合主持，围绕智能产线装调、PLC 控制、"
                "工业机器人应用等岗位能力建设资源，已通过省级验收。"
            ),
        ), by=users["wujing"])
        services.transition_library(mechatronics, "submit", by=users["wujing"])
        services.transition_library(mechatronics, "approve", by=province_admin, reason="同意立项。")
        services.transition_library(mechatronics, "start_building", by=users["wujing"])
        services.transition_library(mechatronics, "request_acceptance", by=users["wujing"])
        services.transition_library(mechatronics, "accept", by=province_admin,
                                    reason="建设任务全部完成，资源应用效果良好，验收通过。")

    say(f"Loaded {len(users)} users, {len(orgs)} institutions and 3 resource libraries.")
    return {"users": users, "organizations": orgs, "libraries": [computing, cnc, mechatronics]}
