"""A tool's tile colour is ``#rrggbb`` and nothing else: the spec, the model and old rows."""

from __future__ import annotations

import copy
import importlib
import re
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from tests.factories import ToolFactory
from tests.tools_registry.test_register_tool import SPEC
from tools_registry.errors import ToolSpecError
from tools_registry.models import Registration, Tool
from tools_registry.services import register_tool_from_spec

pytestmark = pytest.mark.django_db

repair = importlib.import_module("tools_registry.migrations.0002_tool_color_rrggbb").repair_colors


def spec_with(color: Any) -> dict[str, Any]:
    spec = copy.deepcopy(SPEC)
    spec["tool"]["color"] = color
    spec["deployments"] = []
    return spec


@pytest.mark.parametrize(
    "color",
    [
        "red",
        "#fff",
        "#2f6fde;background:url(https://evil.example/)",
        "#2f6fdeff",
        "#2f6fdg",
        " #2f6fde",
        "#2f6fde\n",
        0x2F6FDE,
        None,
    ],
)
def test_a_spec_colour_that_is_not_rrggbb_is_refused_and_nothing_written(color: Any) -> None:
    with pytest.raises(
        ToolSpecError,
        match=re.escape(
            f"tool.color: a colour written #rrggbb (e.g. #2f6fde) is required, not {color!r}"
        ),
    ):
        register_tool_from_spec(spec_with(color))
    assert not Tool.objects.exists()
    assert not Registration.objects.exists()


def test_a_spec_colour_is_kept_in_lower_case() -> None:
    register_tool_from_spec(spec_with("#1A7F5A"))
    assert Tool.objects.get(slug="kanji").color == "#1a7f5a"


def test_a_spec_without_colour_gets_the_default() -> None:
    register_tool_from_spec(copy.deepcopy(SPEC) | {"deployments": []})
    assert Tool.objects.get(slug="kanji").color == "#2f6fde"


def test_the_model_refuses_other_colours() -> None:
    tool = ToolFactory.build(color="url(x)")
    with pytest.raises(ValidationError) as refused:
        tool.full_clean(exclude=["vendor"])
    assert refused.value.message_dict == {
        "color": ["色は #rrggbb の形（例: #2f6fde）で書いてください"]
    }
    ToolFactory.build(color="#E8710A").full_clean(exclude=["vendor"])


def test_the_migration_repairs_colours_saved_before_the_rule() -> None:
    bad, upper, good = ToolFactory.create_batch(3)
    Tool.objects.filter(pk=bad.pk).update(color="red;x:y")  # update() skips validators
    Tool.objects.filter(pk=upper.pk).update(color="#E8710A")
    Tool.objects.filter(pk=good.pk).update(color="#1a7f5a")
    repair(apps, None)
    assert dict(Tool.objects.values_list("pk", "color")) == {
        bad.pk: "#2f6fde",
        upper.pk: "#e8710a",
        good.pk: "#1a7f5a",
    }
