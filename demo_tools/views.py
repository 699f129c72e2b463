"""Three real LTI 1.3 tools built with pylti1p3: a drill, a textbook viewer and a CBT test.

They are ordinary tools that happen to be served by the demo process: they know the portal
only through their own configuration (``demo_tools.config``) and validate every launch with
pylti1p3 (signature via the platform's JWKS, nonce, state, deployment, message claims).
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem

from . import config

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
        return render(request, "demo_tools/error.html", {"error": str(exc)}, status=400)
    return response


@csrf_exempt
@require_http_methods(["POST"])
def launch(request: HttpRequest, slug: str) -> HttpResponse:
    conf = _conf(slug)
    message_launch = DjangoMessageLaunch(request, conf)
    message_launch.set_public_key_caching(DjangoCacheDataStorage(), cache_lifetime=300)
    try:
        data: dict[str, Any] = dict(message_launch.get_launch_data())
    except LtiException as exc:
        return render(request, "demo_tools/error.html", {"error": str(exc)}, status=400)
    roles = [r.rsplit("#", 1)[-1] for r in data.get(LTI + "roles", []) if "membership#" in r]
    context = data.get(LTI + "context", {})
    custom = data.get(LTI + "custom", {})
    members: list[dict[str, Any]] = []
    if "Instructor" in roles and message_launch.has_nrps():
        try:
            members = [dict(m) for m in message_launch.get_nrps().get_members()]
        except LtiException as exc:
            logger.warning("NRPS failed: %s", exc)
    viewer = {
        "tool": TOOL_NAMES[slug],
        "slug": slug,
        "name": data.get("name", ""),
        "sub": data.get("sub", ""),
        "class_title": context.get("title", ""),
        "grade": custom.get("grade", ""),
        "role": "、".join(ROLE_LABELS.get(r, r) for r in roles),
        "is_instructor": "Instructor" in roles,
        "resource_title": data.get(LTI + "resource_link", {}).get("title", ""),
        "deployment_id": data.get(LTI + "deployment_id", ""),
        "platform": data.get(LTI + "tool_platform", {}).get("name", ""),
        "return_url": data.get(LTI + "launch_presentation", {}).get("return_url", ""),
        "launch_id": message_launch.get_launch_id(),
        "can_score": message_launch.has_ags() and "Learner" in roles,
        "members": [m for m in members if LEARNER in m.get("roles", [])],
    }
    return render(request, f"demo_tools/{slug}.html", {"v": viewer, "questions": CBT_QUESTIONS})


CBT_QUESTIONS = [
    ("q1", "日本の首都はどこですか。", ["東京", "大阪", "京都"], "東京"),
    ("q2", "1週間は何日ですか。", ["5日", "7日", "10日"], "7日"),
    ("q3", "水がこおる温度は何度ですか。", ["0度", "50度", "100度"], "0度"),
]
ACTIVITIES = {
    "drill": ("たしざん ドリル", "demo-drill-addition", 5),
    "cbt": ("CBTテスト（練習）", "demo-cbt-practice-1", len(CBT_QUESTIONS)),
}


@require_http_methods(["POST"])
def finish(request: HttpRequest, slug: str) -> HttpResponse:
    """The student finished: send the score to the platform through AGS (pylti1p3)."""
    if slug not in ACTIVITIES:
        raise Http404
    conf = _conf(slug)
    label, tag, maximum = ACTIVITIES[slug]
    if slug == "cbt":
        given = sum(1 for name, _q, _c, answer in CBT_QUESTIONS if request.POST.get(name) == answer)
    else:
        raw = request.POST.get("score", "")
        given = int(raw) if raw.isdigit() and int(raw) <= maximum else 0
    try:
        launch = DjangoMessageLaunch.from_cache(request.POST.get("launch_id", ""), request, conf)
        if not launch.has_ags():
            raise LtiException("this launch has no AGS endpoint")
        data: dict[str, Any] = dict(launch.get_launch_data())
        ags = launch.get_ags()
        resource_link = data.get(LTI + "resource_link", {}).get("id", "")
        item = ags.find_or_create_lineitem(
            LineItem()
            .set_tag(f"{tag}-{resource_link}")
            .set_label(label)
            .set_score_maximum(maximum)
            .set_resource_id(tag)
            .set_resource_link_id(resource_link)
        )
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
    except LtiException as exc:
        return render(request, "demo_tools/error.html", {"error": str(exc)}, status=400)
    return render(
        request,
        "demo_tools/finished.html",
        {"v": {"tool": TOOL_NAMES[slug], "slug": slug}, "given": given, "maximum": maximum},
    )


def jwks(request: HttpRequest, slug: str) -> JsonResponse:
    """The tool's own public keys (the platform verifies service assertions with them)."""
    if slug not in config.DEMO_TOOLS:
        raise Http404
    return JsonResponse(config.tool_public_jwks(slug))
