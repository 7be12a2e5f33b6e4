"""How the service's modules import one another."""

import ast
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[2] / "service"


def test_no_module_of_the_service_imports_the_service_package_itself():
    for path in SERVICE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                assert node.module != "service", f"{path.name}: from service import …"
            elif isinstance(node, ast.Import):
                assert "service" not in [a.name for a in node.names], f"{path.name}: import service"
