"""Through the real platform: the Back button cannot replace a CBT score (issue 8 item 5)."""

from __future__ import annotations

from http import HTTPStatus

import requests

from lti_platform.models import Score, ScoreEvent
from roster.demo import DEMO_PASSWORD
from tests.interop.conftest import platform  # noqa: F401  (the live platform fixture)
from tests.interop.test_pylti1p3_launch import launch, text_of
from tests.ltiflow import Browser, forms


def test_a_resubmitted_cbt_page_is_refused_and_the_score_stays(
    platform: str,  # noqa: F811
) -> None:
    browser = Browser(platform)
    browser.sign_in("midori-1-a-01", DEMO_PASSWORD)
    _claims, page = launch(browser, "cbt")
    [form] = [f for f in forms(page.text) if f.action.endswith("/finish")]

    def submit(answers: dict[str, str]) -> requests.Response:
        return browser.session.post(
            browser.url(form.action),
            data={**form.fields, **answers},
            headers={"Referer": page.url},
            timeout=30,
        )

    first = submit({"q1": "大阪", "q2": "5日", "q3": "100度"})
    assert first.status_code == HTTPStatus.OK, first.text
    assert text_of(first, "sent-score") == "0 / 3 てん"
    second = submit({"q1": "東京", "q2": "7日", "q3": "0度"})  # the same page after Back
    assert second.status_code == HTTPStatus.CONFLICT, second.text
    assert (
        text_of(second, "tool-error")
        == "このテストは もう ていしゅつ しました。こたえは かえられません。"
    )
    score = Score.objects.get()
    assert (score.user.username, score.score_given, score.score_maximum) == ("midori-1-a-01", 0, 3)
    assert ScoreEvent.objects.count() == 1
