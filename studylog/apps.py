from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from dbtools.reencrypt import EncryptedField


class StudylogConfig(AppConfig):
    name = "studylog"
    verbose_name = _("学習記録（xAPI）")

    def encrypted_fields(self) -> list[EncryptedField]:
        """The secrets this app keeps encrypted at rest (``manage.py reencrypt_secrets``)."""
        from .forwarder import LRS_PASSWORDS

        return [LRS_PASSWORDS]
