"""The tool's pages, written as django-lti's documentation shows: a Dynamic Registration view
(``DynamicRegistrationBaseView``) and a launch view (``LtiLaunchBaseView``)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from lti_dynamic_registration.types import (
    CanvasLtiMessage,
    CanvasLtiRegistration,
    CanvasLtiToolConfiguration,
)
from lti_dynamic_registration.views import DynamicRegistrationBaseView
from lti_tool.models import Key, LtiLaunch
from lti_tool.views import LtiLaunchBaseView

RESOURCE_LINK = "LtiResourceLinkRequest"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
# It asks for both services: a board may grant fewer.
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]


class RegistrationView(DynamicRegistrationBaseView):
    tool_friendly_name = "django-lti ドリル"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not Key.objects.active().exists():
            Key.objects.generate()
        openid_config = self.get_openid_config()
        registration = self.register_platform_in_tool(self.tool_friendly_name, openid_config)
        base = request.build_absolute_uri("/").rstrip("/")
        client_id = self.register_tool_in_platform(
            openid_config,
            CanvasLtiRegistration(
                client_name=self.tool_friendly_name,
                jwks_uri=base + "/jwks/",
                initiate_login_uri=f"{base}/init/{registration.uuid}/",
                target_link_uri=base + "/launch/",
                scopes=SCOPES,
                lti_tool_configuration=CanvasLtiToolConfiguration(
                    domain=request.get_host(),
                    target_link_uri=base + "/launch/",
                    claims=["iss", "sub", "name"],
                    messages=[
                        CanvasLtiMessage(
                            type=RESOURCE_LINK, target_link_uri=base + "/launch/", label="ドリル"
                        )
                    ],
                    description="django-lti で作ったツール",
                ),
            ),
        )
        registration.client_id = client_id
        registration.save()
        return self.success_response()


class LaunchView(LtiLaunchBaseView):
    def launch_setup(self, request: HttpRequest, lti_launch: LtiLaunch) -> None:
        # This tool trusts every deployment of a platform it registered with.
        if not lti_launch.deployment.is_active:
            lti_launch.deployment.is_active = True
            lti_launch.deployment.save()

    def handle_resource_launch(self, request: HttpRequest, lti_launch: LtiLaunch) -> HttpResponse:
        data = lti_launch.get_launch_data()
        shown = {
            "deployment_id": lti_launch.deployment.deployment_id,
            "client_id": lti_launch.registration.client_id,
            "sub": data["sub"],
            "message_type": data["https://purl.imsglobal.org/spec/lti/claim/message_type"],
            "name": data.get("name"),
            "context_title": data["https://purl.imsglobal.org/spec/lti/claim/context"]["title"],
            "ags": AGS_CLAIM in data,
            "nrps": NRPS_CLAIM in data,
        }
        return HttpResponse(json.dumps(shown, ensure_ascii=False), content_type="application/json")
