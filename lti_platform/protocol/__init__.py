"""Pure LTI 1.3 protocol code: claims, JOSE helpers, OIDC messages.

No Django imports, no global state: time, keys and configuration are passed in.
``tests/lti_platform/test_protocol_boundary.py`` enforces this.
"""
