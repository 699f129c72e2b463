"""lti_platform/protocol/ is pure Python: it must not import Django (or our Django apps)."""

import ast
from pathlib import Path

PROTOCOL = Path(__file__).resolve().parents[2] / "lti_platform" / "protocol"
FORBIDDEN = ("django", "roster", "tools_registry", "portal", "sso", "lti_platform.models")


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_protocol_package_has_modules() -> None:
    assert len(list(PROTOCOL.glob("*.py"))) >= 5


def test_protocol_never_imports_django() -> None:
    offenders = {
        f"{path.name}: {name}"
        for path in PROTOCOL.rglob("*.py")
        for name in _imports(path)
        if name.split(".")[0] in FORBIDDEN or name.startswith(FORBIDDEN)
    }
    assert offenders == set()


def test_boundary_check_catches_a_django_import(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("from django.conf import settings\nimport os\n")
    assert _imports(sample) == ["django.conf", "os"]
