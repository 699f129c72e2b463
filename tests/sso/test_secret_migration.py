"""Migration 0004 moves a client secret kept in clear in allauth's ``SocialApp.secret`` to the
provider's row, encrypted, and back when unapplied."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from sso.models import IdentityProvider
from tests.factories import DistrictFactory
from tests.sso.idps import make_idp

pytestmark = pytest.mark.django_db

migration = importlib.import_module("sso.migrations.0004_idp_client_secret_at_rest")


def test_existing_secrets_are_encrypted_and_unapplying_restores_them():
    idp = make_idp(DistrictFactory.create())
    # as the rows were before: the secret in allauth's column, nothing on ours
    idp.app.secret = "clear-secret-before-0004"
    idp.app.save()
    IdentityProvider.objects.filter(pk=idp.pk).update(client_secret_at_rest="")
    saml_like = make_idp(DistrictFactory.create(), secret="")
    migration.encrypt_secrets(apps, None)
    idp.refresh_from_db()
    idp.app.refresh_from_db()
    assert idp.app.secret == ""
    assert "clear-secret" not in idp.client_secret_at_rest
    assert idp.client_secret() == "clear-secret-before-0004"
    saml_like.refresh_from_db()
    assert (saml_like.app.secret, saml_like.client_secret_at_rest) == ("", "")
    migration.decrypt_secrets(apps, None)
    idp.app.refresh_from_db()
    assert idp.app.secret == "clear-secret-before-0004"
