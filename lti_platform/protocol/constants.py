"""Claim URIs, message types, roles and media types of LTI 1.3 / LTI Advantage.

Specification: https://www.imsglobal.org/spec/lti/v1p3/ (LTI Core 1.3).
"""

from enum import StrEnum

LTI_VERSION = "1.3.0"

_LTI = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_MESSAGE_TYPE = _LTI + "message_type"
CLAIM_VERSION = _LTI + "version"
CLAIM_DEPLOYMENT_ID = _LTI + "deployment_id"
CLAIM_TARGET_LINK_URI = _LTI + "target_link_uri"
CLAIM_RESOURCE_LINK = _LTI + "resource_link"
CLAIM_ROLES = _LTI + "roles"
CLAIM_CONTEXT = _LTI + "context"
CLAIM_TOOL_PLATFORM = _LTI + "tool_platform"
CLAIM_LAUNCH_PRESENTATION = _LTI + "launch_presentation"
CLAIM_CUSTOM = _LTI + "custom"
CLAIM_LIS = _LTI + "lis"
CLAIM_ROLE_SCOPE_MENTOR = _LTI + "role_scope_mentor"
# LTI Submission Review 1.0: the learner whose submission a reviewer opens.
CLAIM_FOR_USER = _LTI + "for_user"

CLAIM_AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CLAIM_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
# Deep Linking 2.0: https://www.imsglobal.org/spec/lti-dl/v2p0/
_DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
CLAIM_DEEP_LINKING_SETTINGS = _DL + "deep_linking_settings"
CLAIM_DL_CONTENT_ITEMS = _DL + "content_items"
CLAIM_DL_DATA = _DL + "data"
CLAIM_DL_MSG = _DL + "msg"
CLAIM_DL_LOG = _DL + "log"
CLAIM_DL_ERRORMSG = _DL + "errormsg"
CLAIM_DL_ERRORLOG = _DL + "errorlog"

CONTEXT_TYPE_COURSE_SECTION = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseSection"


class MessageType(StrEnum):
    RESOURCE_LINK = "LtiResourceLinkRequest"
    DEEP_LINKING = "LtiDeepLinkingRequest"
    DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
    SUBMISSION_REVIEW = "LtiSubmissionReviewRequest"


class ContentItemType(StrEnum):
    """Deep Linking 2.0 §3: the content item types the platform accepts."""

    LTI_RESOURCE_LINK = "ltiResourceLink"
    LINK = "link"
    FILE = "file"
    HTML = "html"
    IMAGE = "image"


class DocumentTarget(StrEnum):
    WINDOW = "window"
    IFRAME = "iframe"


_INST = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
_MEMB = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
_SYS = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"


class Role(StrEnum):
    INSTITUTION_STUDENT = _INST + "Student"
    INSTITUTION_FACULTY = _INST + "Faculty"
    INSTITUTION_ADMINISTRATOR = _INST + "Administrator"
    CONTEXT_LEARNER = _MEMB + "Learner"
    CONTEXT_INSTRUCTOR = _MEMB + "Instructor"
    CONTEXT_CONTENT_DEVELOPER = _MEMB + "ContentDeveloper"
    CONTEXT_MENTOR = _MEMB + "Mentor"
    CONTEXT_ADMINISTRATOR = _MEMB + "Administrator"
    SYSTEM_ADMINISTRATOR = _SYS + "Administrator"


# Japanese grade codes (OneRoster 1.2 Japan Profile).
GRADE_CODES = frozenset(
    ["P1", "P2", "P3", "P4", "P5", "P6", "J1", "J2", "J3", "H1", "H2", "H3", "E1", "E2", "E3"]
)

# --- LTI Advantage services -------------------------------------------------------------------
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

_AGS_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPE_LINEITEM = _AGS_SCOPE + "lineitem"
SCOPE_LINEITEM_READONLY = _AGS_SCOPE + "lineitem.readonly"
SCOPE_RESULT_READONLY = _AGS_SCOPE + "result.readonly"
SCOPE_SCORE = _AGS_SCOPE + "score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)

MEDIA_LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
MEDIA_MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


class ActivityProgress(StrEnum):
    INITIALIZED = "Initialized"
    STARTED = "Started"
    IN_PROGRESS = "InProgress"
    SUBMITTED = "Submitted"
    COMPLETED = "Completed"


# A line item's submissionReview.reviewableStatus: activityProgress values, or "Any".
REVIEWABLE_ANY = "Any"


class GradingProgress(StrEnum):
    FULLY_GRADED = "FullyGraded"
    PENDING = "Pending"
    PENDING_MANUAL = "PendingManual"
    FAILED = "Failed"
    NOT_READY = "NotReady"


# --- LTI Dynamic Registration 1.0: https://www.imsglobal.org/spec/lti-dr/v1p0/ ---------------
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
SCOPE_OPENID = "openid"
# The one placement of our deep-linking launches: a teacher picks content for an assignment.
PLACEMENT_CONTENT_AREA = "ContentArea"
