from django.urls import path, re_path

from . import registration_views, service_views, submission_review, views

app_name = "lti_platform"
urlpatterns = [
    path("jwks", views.jwks, name="jwks"),
    path("authorize", views.authorize, name="authorize"),
    path("launch/<uuid:resource_link_id>/<uuid:class_id>", views.launch, name="launch"),
    path(
        "deep-linking/<uuid:resource_link_id>/<uuid:class_id>",
        views.deep_linking_start,
        name="deep_linking_start",
    ),
    path("deep-linking/return", views.deep_linking_return, name="deep_linking_return"),
    path(
        "review/<int:line_item>/<uuid:learner_id>",
        submission_review.start_view,
        name="submission_review_start",
    ),
]

_ags = "ags/<int:deployment>/<uuid:context>/lineitems"
urlpatterns += [
    path("token", service_views.token, name="token"),
    path("register", registration_views.register, name="register"),
    path(_ags, service_views.lineitems, name="lineitems"),
    path(_ags + "/<int:item>", service_views.lineitem, name="lineitem"),
    path(_ags + "/<int:item>/scores", service_views.scores, name="scores"),
    path(_ags + "/<int:item>/results", service_views.results, name="results"),
    path(
        "nrps/<int:deployment>/<uuid:context>/memberships",
        service_views.memberships,
        name="memberships",
    ),
]

# Last: any other URL under /lti/ is a JSON "not found", as every service error is.
urlpatterns += [re_path(r"^(?P<path>.*)$", service_views.unrouted, name="unrouted")]
