from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StudylogConfig(AppConfig):
    name = "studylog"
    verbose_name = _("学習記録（xAPI）")
