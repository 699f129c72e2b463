"""Verbs, activity types and extension IRIs the portal's statements use (ADL, TinCan and
ActivityStreams vocabularies; the draft Japan xAPI profile's extensions)."""

from __future__ import annotations

from dataclasses import dataclass

VERSION_HEADER = "X-Experience-API-Version"
CONSISTENT_THROUGH_HEADER = "X-Experience-API-Consistent-Through"
SUPPORTED_VERSIONS = ("1.0.3", "2.0.0")


@dataclass(frozen=True)
class Verb:
    id: str
    en: str
    ja: str

    def as_json(self) -> dict[str, object]:
        return {"id": self.id, "display": {"en-US": self.en, "ja": self.ja}}


LAUNCHED = Verb("http://adlnet.gov/expapi/verbs/launched", "launched", "起動した")
ATTEMPTED = Verb("http://adlnet.gov/expapi/verbs/attempted", "attempted", "取り組み始めた")
PROGRESSED = Verb("http://adlnet.gov/expapi/verbs/progressed", "progressed", "取り組んでいる")
COMPLETED = Verb("http://adlnet.gov/expapi/verbs/completed", "completed", "終えた")
SCORED = Verb("http://adlnet.gov/expapi/verbs/scored", "scored", "採点された")
PASSED = Verb("http://adlnet.gov/expapi/verbs/passed", "passed", "合格した")
FAILED = Verb("http://adlnet.gov/expapi/verbs/failed", "failed", "不合格だった")
ASSIGNED = Verb("http://activitystrea.ms/schema/1.0/assign", "assigned", "課題を出した")
VOIDED = "http://adlnet.gov/expapi/verbs/voided"

# Activity types.
TYPE_LINK = "http://adlnet.gov/expapi/activities/link"
TYPE_ASSIGNMENT = "http://id.tincanapi.com/activitytype/school-assignment"
TYPE_ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
TYPE_CLASS = "http://adlnet.gov/expapi/activities/course"
TYPE_SCHOOL = "http://id.tincanapi.com/activitytype/organization"
TYPE_TOOL = "http://id.tincanapi.com/activitytype/software-application"
TYPE_LINE_ITEM = "http://adlnet.gov/expapi/activities/assessment"

# Context extensions of the draft Japan xAPI profile.
JAPAN_EXTENSIONS = "https://w3id.org/japan-xapi/extensions/"
EXT_GRADE = JAPAN_EXTENSIONS + "grade"
EXT_SUBJECT = JAPAN_EXTENSIONS + "subject"
EXT_COURSE_OF_STUDY = JAPAN_EXTENSIONS + "course-of-study-code"
