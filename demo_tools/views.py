"""Three real LTI 1.3 tools built with pylti1p3: a drill, a textbook viewer and a CBT test.

They are ordinary tools that happen to be served by the demo process: they know the portal
only through their own configuration (``demo_tools.config``) and validate every launch with
pylti1p3 (signature via the platform's JWKS, nonce, state, deployment, message claims).
"""

from __future__ import annotations

import datetime
import functools
import logging
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.message_launch import MessageLaunch

from . import attempts, catalogue, config, deep_linking, statements, xapi

TOOL_NAMES = {"drill": "まなびドリル", "textbook": "デジタル教科書ビューア", "cbt": "CBTテスト"}
ROLE_LABELS = {
    "Learner": "児童生徒",
    "Instructor": "先生",
    "Administrator": "管理者",
    "ContentDeveloper": "教材作成者",
    "Mentor": "保護者・支援者",
}
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR_ROLES = {"Instructor", "Administrator", "ContentDeveloper"}
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SUBMISSION_REVIEW = "LtiSubmissionReviewRequest"
logger = logging.getLogger("manabi.demo_tools")


def _conf(slug: str) -> Any:
    if slug not in config.DEMO_TOOLS:
        raise Http404
    conf = config.tool_conf(slug)
    if conf is None:
        raise Http404("this demo tool is not registered with the portal yet")
    return conf


@csrf_exempt
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest, slug: str) -> HttpResponse:
    """Third-party initiated login: pylti1p3 redirects to the platform's auth endpoint."""
    conf = _conf(slug)
    target = request.POST.get("target_link_uri") or request.GET.get("target_link_uri", "")
    try:
        response: HttpResponse = DjangoOIDCLogin(request, conf).redirect(target)
    except OIDCException as exc:
        return _error(request, str(exc))
    return response


@csrf_exempt
@require_http_methods(["POST"])
def launch(request: HttpRequest, slug: str) -> HttpResponse:
    """A resource-link launch shows the picked content; a deep-linking request the picker."""
    conf = _conf(slug)
    message_launch = DjangoMessageLaunch(request, conf)
    message_launch.set_public_key_caching(DjangoCacheDataStorage(), cache_lifetime=300)
    try:
        data: dict[str, Any] = dict(message_launch.get_launch_data())
    except LtiException as exc:
        return _error(request, str(exc))
    viewer = _viewer(slug, data, message_launch.get_launch_id())
    if data.get(LTI + "message_type") == SUBMISSION_REVIEW:
        return _review(request, slug, viewer, data)
    if message_launch.is_deep_link_launch():
        if not viewer["is_instructor"]:
            return _error(request, "教材をえらべるのは 先生だけです。", viewer, status=403)
        return _picker(request, viewer, data)
    custom = data.get(LTI + "custom", {})
    members: list[dict[str, Any]] = []
    if viewer["is_instructor"] and message_launch.has_nrps():
        try:
            members = [dict(m) for m in message_launch.get_nrps().get_members()]
        except LtiException as exc:
            logger.warning("NRPS failed: %s", exc)
    viewer["members"] = [m for m in members if LEARNER in m.get("roles", [])]
    viewer["can_score"] = message_launch.has_ags() and "Learner" in viewer["roles"]
    context: dict[str, Any] = {"v": viewer}
    if slug == "drill":
        unit = catalogue.DRILL_UNITS.get(custom.get("unit") or catalogue.DEFAULT_UNIT)
        if unit is None:
            return _error(request, "えらばれた ドリルが 見つかりません。", viewer)
        context["unit"] = unit
    elif slug == "cbt":
        test = catalogue.CBT_TESTS.get(custom.get("test") or catalogue.DEFAULT_TEST)
        if test is None:
            return _error(request, "えらばれた テストが 見つかりません。", viewer)
        context["test"] = test
        context["attempt"] = attempts.issue(viewer["launch_id"])
    else:
        found = catalogue.find_page(custom.get("chapter") or "1", custom.get("page") or "")
        if found is None:
            return _error(request, "えらばれた ページが 見つかりません。", viewer)
        chapter, page = found
        context["chapter"] = chapter
        context["pages"] = [page] if page else list(chapter.pages)
    return render(request, f"demo_tools/{slug}.html", context)


def _viewer(slug: str, data: dict[str, Any], launch_id: str) -> dict[str, Any]:
    roles = [r.rsplit("#", 1)[-1] for r in data.get(LTI + "roles", []) if "membership#" in r]
    context = data.get(LTI + "context", {})
    custom = data.get(LTI + "custom", {})
    return {
        "tool": TOOL_NAMES[slug],
        "slug": slug,
        "name": data.get("name", ""),
        "sub": data.get("sub", ""),
        "class_title": context.get("title", ""),
        "grade": custom.get("grade", ""),
        "roles": roles,
        "role": "、".join(ROLE_LABELS.get(r, r) for r in roles),
        "is_instructor": bool(INSTRUCTOR_ROLES & set(roles)),
        "resource_title": data.get(LTI + "resource_link", {}).get("title", ""),
        "deployment_id": data.get(LTI + "deployment_id", ""),
        "platform": data.get(LTI + "tool_platform", {}).get("name", ""),
        "return_url": _return_url(data),
        "launch_id": launch_id,
        "can_score": False,
        "members": [],
    }


def _return_url(data: dict[str, Any]) -> str:
    """launch_presentation.return_url when it is an http(s) URL (never a javascript: link)."""
    url = str(data.get(LTI + "launch_presentation", {}).get("return_url") or "")
    return url if urlsplit(url).scheme in ("http", "https") else ""


def _error(
    request: HttpRequest, error: str, viewer: dict[str, Any] | None = None, *, status: int = 400
) -> HttpResponse:
    return render(request, "demo_tools/error.html", {"error": error, "v": viewer}, status=status)


def _review(
    request: HttpRequest, slug: str, viewer: dict[str, Any], data: dict[str, Any]
) -> HttpResponse:
    """An LtiSubmissionReviewRequest (pylti1p3 checked for_user and the line item): show the
    teacher the child's submitted answers of the CBT test."""
    if slug != "cbt" or not viewer["is_instructor"]:
        return _error(request, "提出物を見られるのは 先生だけです。", viewer, status=403)
    custom = data.get(LTI + "custom", {})
    test = catalogue.CBT_TESTS.get(custom.get("test") or catalogue.DEFAULT_TEST)
    if test is None:
        return _error(request, "えらばれた テストが 見つかりません。", viewer)
    learner = data.get(LTI + "for_user") or {}
    answers = attempts.answers_of(viewer["deployment_id"], str(learner.get("user_id")), test.key)
    rows = [
        {"question": q, "answer": (answers or {}).get(q.name, ""), "correct": q.answer}
        for q in test.questions
    ]
    return render(
        request,
        "demo_tools/cbt_review.html",
        {
            "v": viewer,
            "test": test,
            "learner_name": learner.get("name") or "",  # only when the platform shares names
            "learner_id": learner.get("person_sourcedid") or learner.get("user_id") or "",
            "answers": answers,
            "rows": rows,
            "given": sum(1 for r in rows if r["answer"] == r["correct"]),
        },
    )


def _picker(
    request: HttpRequest,
    viewer: dict[str, Any],
    data: dict[str, Any],
    *,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    settings = deep_linking.Settings.from_claim(data.get(DL_SETTINGS) or {})
    offers = [o for o in catalogue.offers(viewer["slug"]) if o.type in settings.accept_types]
    return render(
        request,
        "demo_tools/deep_link_picker.html",
        {
            "v": viewer,
            "settings": settings,
            "offers": offers,
            "windowed": any(o.windowed for o in offers),
            "errors": errors or [],
            "picked": request.POST.getlist("item") if errors else [],
            "form": request.POST if errors else {},
        },
        status=status,
    )


@require_http_methods(["POST"])
def deep_link(request: HttpRequest, slug: str) -> HttpResponse:
    """The teacher picked content: answer the platform with a signed LtiDeepLinkingResponse."""
    conf = _conf(slug)
    try:
        message_launch = DjangoMessageLaunch.from_cache(
            request.POST.get("launch_id", ""), request, conf
        )
    except LtiException:
        return _error(request, "もういちど 学習eポータルから ひらいてください。")
    data: dict[str, Any] = dict(message_launch.get_launch_data())
    viewer = _viewer(slug, data, message_launch.get_launch_id())
    if not message_launch.is_deep_link_launch() or not viewer["is_instructor"]:
        return _error(request, "教材をえらべるのは 先生だけです。", viewer, status=403)
    settings = deep_linking.Settings.from_claim(data.get(DL_SETTINGS) or {})
    if "cancel" in request.POST:
        items: list[deep_linking.ContentItem] = []
        msg = "教材は えらばれませんでした。"
    else:
        try:
            items = _picked_items(request, slug, settings)
        except PickError as exc:
            return _picker(request, viewer, data, errors=exc.messages, status=400)
        msg = f"{TOOL_NAMES[slug]}から {len(items)}この 教材を えらびました。"
    if not cache.add(f"demo_tools:deep-link-answered:{viewer['launch_id']}", True, 3600):
        return _error(request, "この えらびかたは もう 送りました。", viewer, status=409)
    deep_link_obj = message_launch.get_deep_link()
    token = deep_linking.response_jwt(deep_link_obj, items, msg=msg)
    return_url = str((data.get(DL_SETTINGS) or {}).get("deep_link_return_url", ""))
    response = render(
        request,
        "demo_tools/deep_link_return.html",
        {"v": viewer, "action": return_url, "jwt": token, "count": len(items)},
    )
    if urlsplit(request.build_absolute_uri(return_url)).netloc != request.get_host():
        response._csp_replace = {"form-action": None}  # type: ignore[attr-defined]  # django-csp
    return response


class PickError(Exception):
    def __init__(self, messages: list[str]) -> None:
        super().__init__(messages)
        self.messages = messages


def _picked_items(
    request: HttpRequest, slug: str, settings: deep_linking.Settings
) -> list[deep_linking.ContentItem]:
    """Check the picker's form against the request's settings; raise PickError if wrong."""
    offers = {o.key: o for o in catalogue.offers(slug) if o.type in settings.accept_types}
    picked_keys = request.POST.getlist("item")
    errors: list[str] = []
    picked = [offers[k] for k in dict.fromkeys(picked_keys) if k in offers]
    if len(picked) != len(set(picked_keys)):
        errors.append("えらべない 教材が ふくまれています。")
    if not picked:
        errors.append("教材を 1つ いじょう えらんでください。")
    if len(picked) > 1 and not settings.accept_multiple:
        errors.append("このたびは 教材を 1つだけ えらべます。")
    target = request.POST.get("target", "")
    if target not in settings.targets:
        errors.append("ひらきかたを えらんでください。")
    window = None
    if any(o.windowed for o in picked):
        start = _local_datetime(request.POST.get("start", ""))
        end = _local_datetime(request.POST.get("end", ""))
        if start is None or end is None:
            errors.append("テストの はじまりと おわりの 日時を 入れてください。")
        elif end <= start:
            errors.append("おわりの 日時は はじまりより あとに してください。")
        else:
            window = deep_linking.Window(start, end)
    if errors:
        raise PickError(errors)
    return [
        deep_linking.content_item(
            o,
            url=request.build_absolute_uri(reverse(o.url_name, args=[slug])),
            target=target,
            window=window if o.windowed else None,
            lineitem=settings.accept_lineitem,
        )
        for o in picked
    ]


def _local_datetime(value: str) -> datetime.datetime | None:
    """A ``datetime-local`` field in the school's time zone (Asia/Tokyo)."""
    try:
        naive = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M")  # noqa: DTZ007
    except ValueError:
        return None
    return timezone.make_aware(naive)


def glossary(request: HttpRequest, slug: str) -> HttpResponse:
    """The textbook's glossary: a plain page a ``link`` content item points to."""
    if slug != "textbook":
        raise Http404
    return render(
        request, "demo_tools/glossary.html", {"v": {"tool": TOOL_NAMES[slug], "slug": slug}}
    )


@require_http_methods(["POST"])
def finish(request: HttpRequest, slug: str) -> HttpResponse:
    """The student finished: send the score to the platform through AGS (pylti1p3).

    A CBT attempt is submitted once: the form's one-time attempt id is spent before the
    score is sent, so the same page posted again (the Back button) is refused. Once the
    score went, the attempt's statements go to the portal's LRS endpoint (``xapi``).
    """
    if slug not in ("drill", "cbt"):
        raise Http404
    conf = _conf(slug)
    finished_at = timezone.now()
    launch_id = request.POST.get("launch_id", "")
    try:
        launch = DjangoMessageLaunch.from_cache(launch_id, request, conf)
    except LtiException:
        return _error(request, "もういちど 学習eポータルから ひらいてください。")
    data: dict[str, Any] = dict(launch.get_launch_data())
    viewer = _viewer(slug, data, launch_id)
    custom = data.get(LTI + "custom", {})
    attempt = request.POST.get("attempt", "")
    answers: dict[str, str] | None = None
    test_key = ""
    if slug == "cbt":
        test = catalogue.CBT_TESTS.get(custom.get("test") or catalogue.DEFAULT_TEST)
        if test is None:
            return _error(request, "えらばれた テストが 見つかりません。", viewer)
        refusal = attempts.spend(attempt, launch_id)
        if refusal is not None:
            return _error(request, refusal, viewer, status=409)
        given = sum(1 for q in test.questions if request.POST.get(q.name) == q.answer)
        answers = {q.name: request.POST.get(q.name, "") for q in test.questions}
        test_key = test.key
        maximum = len(test.questions)
        label, resource_id = test.title, f"demo-cbt-{test.key}"
        attempt_key = f"cbt/{attempt}"
        record = functools.partial(
            statements.cbt, test=test, answers=answers, given=given, finished_at=finished_at
        )
    else:
        unit = catalogue.DRILL_UNITS.get(custom.get("unit") or catalogue.DEFAULT_UNIT)
        if unit is None:
            return _error(request, "えらばれた ドリルが 見つかりません。", viewer)
        maximum = unit.questions
        raw = request.POST.get("score", "")
        given = int(raw) if raw.isdigit() and int(raw) <= maximum else 0
        label, resource_id = f"{unit.title} ドリル", f"demo-drill-{unit.key}"
        attempt_key = f"drill/{launch_id}"  # a drill set is one launch
        record = functools.partial(
            statements.drill,
            unit=unit,
            answers=statements.DrillAnswer.parse_all(request.POST.get("answers", ""), maximum),
            given=given,
            finished_at=finished_at,
        )
    try:
        _send_score(
            launch, data, given=given, maximum=maximum, label=label, resource_id=resource_id
        )
    except LtiException as exc:
        if slug == "cbt":
            attempts.release(attempt)  # nothing was recorded: the child may send it again
        return _error(request, str(exc), viewer)
    if answers is not None:  # kept for the teacher's submission review
        attempts.remember_answers(viewer["deployment_id"], viewer["sub"], test_key, answers)
    endpoint = xapi.Endpoint.of(slug)
    if endpoint is not None:  # the study log, last: the LRS never fails the child's work
        xapi.send(endpoint, record(_attempt(endpoint, slug, data, attempt_key)))
    return render(
        request, "demo_tools/finished.html", {"v": viewer, "given": given, "maximum": maximum}
    )


def _attempt(
    endpoint: xapi.Endpoint, slug: str, data: dict[str, Any], attempt_key: str
) -> xapi.Attempt:
    """The attempt's shared statement parts: the drill's attempt is its launch, the CBT
    test's its one-time attempt id."""
    link = data.get(LTI + "resource_link", {})
    return xapi.Attempt(
        endpoint=endpoint,
        tool_name=TOOL_NAMES[slug],
        sub=str(data["sub"]),
        registration=statements.registration(endpoint, attempt_key),
        deployment_id=str(data.get(LTI + "deployment_id", "")),
        resource_link_id=str(link.get("id", "")),
        resource_link_title=str(link.get("title") or ""),
    )


def _send_score(
    launch: MessageLaunch[Any, Any, Any, Any],
    data: dict[str, Any],
    *,
    given: int,
    maximum: int,
    label: str,
    resource_id: str,
) -> None:
    """Post the score to the launch's line item (deep-linked), else find or create one."""
    if not launch.has_ags():
        raise LtiException("this launch has no AGS endpoint")
    ags = launch.get_ags()
    item = None
    if not data.get(AGS_ENDPOINT, {}).get("lineitem"):
        resource_link = data.get(LTI + "resource_link", {}).get("id", "")
        wanted = (
            LineItem()
            .set_tag(f"{resource_id}-{resource_link}")
            .set_label(label)
            .set_score_maximum(maximum)
            .set_resource_id(resource_id)
            .set_resource_link_id(resource_link)
        )
        if resource_id.startswith("demo-cbt-"):  # the teacher can review the answers
            wanted.set_submission_review(["Submitted", "Completed"], label="こたえを見る")
        item = ags.find_or_create_lineitem(wanted)
    timestamp = datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="milliseconds")
    ags.put_grade(
        Grade()
        .set_score_given(given)
        .set_score_maximum(maximum)
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_timestamp(timestamp.replace("+00:00", "Z"))
        .set_user_id(data["sub"]),
        item,
    )


def jwks(request: HttpRequest, slug: str) -> JsonResponse:
    """The tool's own public keys (the platform verifies service assertions with them)."""
    if slug not in config.DEMO_TOOLS:
        raise Http404
    return JsonResponse(config.tool_public_jwks(slug))
