"""Rules of the architecture that import-linter's contracts (.importlinter) do not
state: no module imports another app's private names, and no import inside a
function dodges a cycle unseen (each says why it is there)."""

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


def _in_ready(path: Path, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """An AppConfig's ready(): where Django's apps import their registrations."""
    return path.name == "apps.py" and function.name == "ready"


def test_every_import_inside_a_function_says_why():
    unexplained = []
    for module, path in _modules():
        if ".tests" in module:
            continue
        lines = path.read_text().splitlines()
        for function in ast.walk(ast.parse("\n".join(lines), str(path))):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if _in_ready(path, function):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [alias.name for alias in getattr(node, "names", [])]
                if not any(name.startswith("tendero") for name in names):
                    continue
                # The comment may head a group of imports.
                above = node.lineno - 2
                while lines[above].strip().startswith(("from ", "import ")):
                    above -= 1
                if not (lines[above].strip().startswith("#") or "#" in lines[node.lineno - 1]):
                    unexplained.append(f"{module}:{node.lineno}")
    assert unexplained == []
