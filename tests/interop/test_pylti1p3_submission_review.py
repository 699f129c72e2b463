"""Through the real platform: a teacher opens a child's CBT answers from the gradebook with an
LtiSubmissionReviewRequest that the pylti1p3 CBT tool validates (issue 8 item 6)."""

from __future__ import annotations

import re
from http import HTTPStatus

from lti_platform.models import LineItem, Score
from roster.demo import DEMO_PASSWORD
from tests.interop.conftest import platform  # noqa: F401  (the live platform fixture)
from tests.interop.test_pylti1p3_launch import launch, text_of
from tests.ltiflow import Browser, forms


def test_a_teacher_reviews_a_childs_cbt_answers(platform: str) -> None:  # noqa: F811
    child = Browser(platform)
    child.sign_in("midori-1-a-01", DEMO_PASSWORD)
    _claims, page = launch(child, "cbt")
    [form] = [f for f in forms(page.text) if f.action.endswith("/finish")]
    done = child.session.post(
        child.url(form.action),
        data={**form.fields, "q1": "東京", "q2": "5日", "q3": "0度"},
        headers={"Referer": page.url},
        timeout=30,
    )
    assert done.status_code == HTTPStatus.OK, done.text
    score = Score.objects.select_related("line_item__school_class", "user").get()
    item = score.line_item
    assert LineItem.objects.get(pk=item.pk).submission_review == {
        "reviewableStatus": ["Submitted", "Completed"],
        "label": "こたえを見る",
    }

    teacher = Browser(platform)
    teacher.sign_in("midori-t-suzuki", DEMO_PASSWORD)
    gradebook = teacher.session.get(
        teacher.url(f"/classes/{item.school_class.sourced_id}/gradebook"), timeout=10
    )
    link = f"/lti/review/{item.pk}/{score.user.eportal_uuid}"
    assert f'href="{link}"' in gradebook.text
    review = teacher.follow(link)
    assert review.status_code == HTTPStatus.OK, review.text
    # The demo deployment shares no names: the tool names the child by sourcedId.
    assert text_of(review, "review-learner") == f"児童生徒（{score.user.sourced_id}）の こたえ"
    assert text_of(review, "review-score") == "2 / 3 問 正解"
    answers = re.findall(r"<td>(東京|5日|0度)( [○×])</td>", review.text)
    assert answers == [("東京", " ○"), ("5日", " ×"), ("0度", " ○")]

    refused = child.session.get(child.url(link), timeout=10)
    assert refused.status_code == HTTPStatus.FORBIDDEN
