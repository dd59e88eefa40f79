import pytest

from reslib.libraries import services
from reslib.libraries.models import Library, TeamMember

from .. import factories

# Usernames of the people of the `published` library: none of them may reach the public.
USERNAMES = ("wang_jianguo", "li_xiaomei", "zhang_nameless", "liu_wenhua")


@pytest.fixture
def published(college, second_college, enterprise):
    """A library under construction, built through the services: lead 王建国, builder 李晓梅, a reviewer without a
    real name, approved by the province administrator 刘文华. Returns (library, {name: user})."""
    people = {
        "lead": factories.user("wang_jianguo", org=college, real_name="王建国"),
        "builder": factories.user("li_xiaomei", org=college, real_name="李晓梅"),
        "nameless": factories.user("zhang_nameless", org=second_college, real_name=""),
        "province_admin": factories.user("liu_wenhua", role="province_admin", province="320000", real_name="刘文华"),
    }
    library = factories.library(people["lead"], hosts=[college, second_college], participants=[enterprise])
    services.add_team_member(library, by=people["lead"], user=people["builder"], role=TeamMember.Role.BUILDER)
    services.add_team_member(library, by=people["lead"], user=people["nameless"], role=TeamMember.Role.REVIEWER)
    services.transition_library(library, "submit", by=people["lead"])
    services.transition_library(library, "approve", by=people["province_admin"], reason="同意立项。")
    library = services.transition_library(library, "start_building", by=people["lead"])
    assert library.status == Library.Status.BUILDING
    return library, people


@pytest.fixture
def audience(published, college):
    """Who looks at the published library: (user or None, whether they may see who its people are)."""
    library, people = published
    return {
        "anonymous": (None, False),
        "learner": (factories.user("sun_haoran", org=college, learner_category="student"), False),
        "member": (people["builder"], True),
        "province_admin": (people["province_admin"], True),
        "operator": (factories.user("chen_siyuan", role="operator"), True),
    }
