"""The import contracts of pyproject.toml catch the imports they forbid.

``scripts/test.sh`` runs ``lint-imports`` on the whole tree. These tests run the project's own
contract definitions (read from pyproject.toml, not copied) against a miniature
``lti_platform`` package in ``tmp_path``, so a contract that silently stopped matching — a
renamed module, a relative import it does not see — fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _contract(contract_id: str) -> dict[str, Any]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    (contract,) = (c for c in config["contracts"] if c["id"] == contract_id)
    return dict(contract)


def _lint(tmp_path: Path, files: dict[str, str], contract: dict[str, Any]) -> tuple[int, str]:
    """Write the package files and a config holding ``contract``; run lint-imports there."""
    for name, source in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    lines = [
        "[tool.importlinter]",
        'root_packages = ["lti_platform"]',
        "include_external_packages = true",
        "[[tool.importlinter.contracts]]",
        # JSON strings, lists of strings and booleans are valid TOML values.
        *(f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in contract.items()),
    ]
    (tmp_path / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = subprocess.run(  # noqa: S603  (our own venv's lint-imports, fixed arguments)
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def test_every_product_package_is_under_the_contracts() -> None:
    """A new top-level package would otherwise count as an external library, unchecked."""
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    packages = {p.parent.name for p in PYPROJECT.parent.glob("*/__init__.py")}
    assert sorted(packages - {"tests", "e2e", "bench"}) == sorted(config["root_packages"])


PURE_PROTOCOL = {
    "lti_platform/__init__.py": "",
    "lti_platform/models.py": "import django.db\n",
    "lti_platform/protocol/__init__.py": "",
    "lti_platform/protocol/constants.py": "import json\n",
    "lti_platform/protocol/claims.py": "from . import constants\nimport jwt\n",
}


def test_protocol_contract_keeps_a_pure_package(tmp_path: Path) -> None:
    code, output = _lint(tmp_path, PURE_PROTOCOL, _contract("protocol-pure"))
    assert code == 0, output
    assert "Contracts: 1 kept, 0 broken." in output


def test_protocol_contract_catches_django_and_relative_and_lazy_imports(tmp_path: Path) -> None:
    files = {
        **PURE_PROTOCOL,
        "lti_platform/protocol/jose.py": "from django.conf import settings\n",
        "lti_platform/protocol/hints.py": "from ..models import OneTimeToken\n",
        "lti_platform/protocol/oidc.py": "def check():\n    from roster.models import User\n",
    }
    code, output = _lint(tmp_path, files, _contract("protocol-pure"))
    assert code == 1, output
    assert "Contracts: 0 kept, 1 broken." in output
    assert "lti_platform.protocol.jose -> django (l.1)" in output
    assert "lti_platform.protocol.hints -> lti_platform.models (l.1)" in output
    assert "lti_platform.protocol.oidc -> roster (l.2)" in output


def test_acyclic_contract_catches_a_lazy_import_cycle(tmp_path: Path) -> None:
    files = {
        "lti_platform/__init__.py": "",
        "lti_platform/roles.py": "CONTEXT_ROLE = {}\n",
        "lti_platform/nrps.py": "from .roles import CONTEXT_ROLE\n",
        "lti_platform/services.py": "def claims():\n    from . import nrps\n",
    }
    contract = _contract("platform-acyclic")
    code, output = _lint(tmp_path, files, contract)
    assert code == 0, output
    code, output = _lint(
        tmp_path, {"lti_platform/nrps.py": "from .services import claims\n"}, contract
    )
    assert code == 1, output
    assert "Contracts: 0 kept, 1 broken." in output
    assert "No cycles are allowed in lti_platform." in output
