from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from lti_platform.registration_views import openid_configuration
from sso.views import admin_login

# allauth answers its 429s (too many requests) with the root URLconf's handler429.
handler429 = "sso.views.too_many_requests"
# Every error no view answered: 503 + Retry-After for a busy database, else 500, in the
# endpoint's format (config/errors.py).
handler500 = "config.errors.server_error"

urlpatterns = [
    # First: a launch's two requests resolve here without trying the portal's, the sign-in's and
    # the cards' ~50 patterns (resolving /lti/launch/…: 50 -> 15 us of CPU); no pattern that
    # was before it can match a path under lti/ (none starts with a converter or a regex).
    path("lti/", include("lti_platform.urls")),
    path("", include("portal.urls")),
    path("accounts/", include("sso.mfa_urls")),  # before allauth's: recovery codes, MFA reset
    # allauth's SAML URLs, with the portal's gate on the ACS first (sso/saml.py)
    path("accounts/", include("sso.saml_urls")),
    # allauth's OpenID Connect button, with a page for an IdP at a private address (sso/views.py)
    path("accounts/", include("sso.oidc_urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("signin_cards.urls")),  # /signin/card/ and a class's sign-in cards
    path("i18n/", include("django.conf.urls.i18n")),
    path(".well-known/openid-configuration", openid_configuration, name="openid_configuration"),
    path("xapi/", include("studylog.lrs.urls")),
    # The OIDC provider for non-LTI tools, issuer LTI_ISSUER + "/oidc" (docs/oidc-provider.md).
    path("oidc/", include("oidc_clients.urls")),
    path("tools/", include("demo_tools.urls")),
    # The admin's password forms are the portal's, with allauth's throttling: its sign-in
    # page sends the person to the portal's sign-in (and back), its password change to
    # allauth's. These come first, so they answer the admin's own URLs.
    path("admin/login/", admin_login),
    path(
        "admin/password_change/",
        RedirectView.as_view(pattern_name="account_change_password"),
    ),
    path("admin/", admin.site.urls),
]
