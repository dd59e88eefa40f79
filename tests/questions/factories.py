"""Published questions for tests of papers, search and exports, without walking the review each time.

Tests of the question services and of review create questions through the services; these builders skip review
by writing the published state directly, as tests/factories.library(status=...) does for libraries."""

from django.utils import timezone

from reslib.questions.models import QuestionContent, QuestionType
from reslib.resources.models import Resource, ResourceVersion
from tests import factories

SAMPLES = {
    QuestionType.SINGLE_CHOICE: dict(stem="数控车床对刀时首先应确定哪个坐标原点？", options=["机床原点", "工件原点", "刀具原点"],
                                     answer=1),
    QuestionType.MULTIPLE_CHOICE: dict(stem="以下哪些属于切削三要素？", options=["切削速度", "进给量", "背吃刀量", "刀具材料"],
                                       answer=[0, 1, 2]),
    QuestionType.TRUE_FALSE: dict(stem="G00 指令用于快速定位。", options=[], answer=True),
    QuestionType.FILL_BLANK: dict(stem="数控机床的坐标系采用___直角坐标系。", options=[], answer=[["右手", "右手笛卡尔"]]),
    QuestionType.SHORT_ANSWER: dict(stem="简述试切法对刀的步骤。", options=[], answer="先试切端面，再试切外圆，测量后输入刀补。"),
    QuestionType.MATCHING: dict(stem="将指令与功能连线。", options=["G01", "G02", "M03"],
                                answer=["直线插补", "顺时针圆弧插补", "主轴正转"]),
    QuestionType.ORDERING: dict(stem="按加工顺序排列。", options=["装夹工件", "对刀", "运行程序", "测量"], answer=None),
}


def published_question(library, by, qtype=QuestionType.SINGLE_CHOICE, *, difficulty="", knowledge_points=(),
                       **content) -> QuestionContent:
    """A question of `library` whose first version is published (visible per the version's access)."""
    body = {**SAMPLES[qtype], **content}
    resource = factories.resource(library, by, title=body["stem"][:200], resource_type=ResourceVersion.Type.QUESTION,
                                  description=body["stem"], difficulty=difficulty, keywords=[])
    version = resource.latest_version
    version.knowledge_points.set(knowledge_points)
    question = QuestionContent.objects.create(version=version, library=library, qtype=qtype, **body)
    ResourceVersion.objects.filter(pk=version.pk).update(state=ResourceVersion.State.PUBLISHED,
                                                         published_at=timezone.now())
    Resource.objects.filter(pk=resource.pk).update(published_version=version)
    return question
