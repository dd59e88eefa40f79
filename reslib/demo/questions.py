"""Demo questions and a paper in 计算机应用技术专业教学资源库, written and reviewed through the real services.

One published question of each of the 7 types on the demo's knowledge points, one question still a draft, and an
open paper (单元测验) of the published ones, so a student can answer it and a teacher can grade and read results."""

from decimal import Decimal

from reslib.libraries.models import Library
from reslib.questions import papers
from reslib.questions import services as question_services
from reslib.questions.interchange import QuestionData
from reslib.questions.models import QuestionType as QT
from reslib.resources.services import Author

from .resources import publish_through_review

QUESTIONS = [
    (QuestionData(QT.SINGLE_CHOICE, "IPv4 地址 192.168.1.10/24 的网络地址是哪一个？",
                  ["192.168.0.0", "192.168.1.0", "192.168.1.255", "192.168.1.1"], 1,
                  "/24 表示前 24 位为网络位，主机位全 0 即网络地址。", "basic", ["TCP/IP 协议"]), "5"),
    (QuestionData(QT.MULTIPLE_CHOICE, "下列哪些协议工作在 TCP/IP 模型的应用层？",
                  ["HTTP", "DNS", "IP", "SMTP"], [0, 1, 3], "IP 属于网际层。", "intermediate", ["TCP/IP 协议"]), "10"),
    (QuestionData(QT.TRUE_FALSE, "TCP 是面向连接的、可靠的传输层协议。", [], True,
                  "TCP 通过三次握手建立连接，并提供确认与重传。", "basic", ["TCP/IP 协议"]), "5"),
    (QuestionData(QT.FILL_BLANK, "OSI 参考模型共有___层，其中最底层是___层。", [], [["7", "七"], ["物理"]],
                  "", "basic", ["计算机网络"]), "10"),
    (QuestionData(QT.MATCHING, "将设备与其主要工作的 OSI 层次连线。", ["集线器", "交换机", "路由器"],
                  ["物理层", "数据链路层", "网络层"], "", "intermediate", ["计算机网络"]), "10"),
    (QuestionData(QT.ORDERING, "按 TCP 建立连接的顺序排列报文。", ["SYN", "SYN+ACK", "ACK"], None,
                  "三次握手：客户端 SYN，服务器 SYN+ACK，客户端 ACK。", "intermediate", ["TCP/IP 协议"]), "10"),
    (QuestionData(QT.SHORT_ANSWER, "简述划分子网的目的。", [],
                  "减少广播域、提高地址利用率、便于管理与安全隔离。", "答出两点即可得满分。", "advanced",
                  ["TCP/IP 协议"]), "20"),
]
DRAFT = QuestionData(QT.SINGLE_CHOICE, "Python 中用于输出的内置函数是？", ["input()", "print()", "len()"], 1,
                     "", "basic", ["程序设计基础"])


def load(library: Library, users: dict, say) -> None:
    builder, reviewers = users["builder"], [users["reviewer"], users["reviewer2"]]
    lead_host = library.hosts.order_by("position").first().organization
    rights = question_services.Attribution(
        licence="cc_by_nc", contributing_org=lead_host.pk, copyright_holder_org=lead_host.pk,
        authors=[Author(name="李晓梅", institution=lead_host.name, user_id=builder.pk)])
    published = []
    for data, score in QUESTIONS:
        content = question_services.create_question(library, data, by=builder, attribution=rights)
        publish_through_review(content.version, submitter=builder, level_reviewers=reviewers)
        published.append((content.version.resource_id, Decimal(score)))
    question_services.create_question(library, DRAFT, by=builder, attribution=rights)

    paper = papers.create_paper(library, papers.PaperData(
        title="计算机网络基础 单元测验", instructions="独立完成，限时 30 分钟；简答题由老师批阅。",
        time_limit_minutes=30, max_attempts=2), by=builder)
    for resource_id, score in published:
        papers.add_question(paper, resource_id, score, by=builder)
    papers.open_paper(paper, by=builder)
    say("Loaded 8 questions (7 published, 1 draft) and an open paper in the 计算机应用技术 library.")
