"""Rules of the architecture that import-linter's contracts (.importlinter) do not
state: no module imports another app's private names."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


def _app(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        if "migrations" in relative.parts:
            continue
        yield ".".join(relative.parts).removesuffix(".__init__"), path


def test_no_module_imports_a_private_name_of_another_app():
    crossings = []
    for module, path in _modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(
                "tendero."
            ):
                continue
            if _app(node.module or "") == _app(module):
                continue
            crossings += [
                f"{module}:{node.lineno} {node.module}.{alias.name}"
                for alias in node.names
                if alias.name.startswith("_")
            ]
    assert crossings == []
