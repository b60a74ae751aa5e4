"""The shape of the source tree: imports say what a module touches, and say it at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import parity

SOURCE = Path(parity.__file__).parent
LAZY_MARK = "# lazy:"


def _local_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Import statements inside a function body (not module-level, not under TYPE_CHECKING)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    found.append(inner)
    return found


def _names(statement: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(statement, ast.ImportFrom):
        return [statement.module or ""]
    return [alias.name for alias in statement.names]


def test_every_function_local_import_says_why_it_is_lazy() -> None:
    # A function-local import hides an edge of the module graph; one is kept only to defer a
    # heavy third-party library, and then the line says so.
    unexplained = []
    for path in sorted(SOURCE.rglob("*.py")):
        if path.name == "probe.py":  # runs as a plain script inside foreign interpreters
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for statement in _local_imports(ast.parse("\n".join(lines))):
            text = " ".join(lines[statement.lineno - 1 : statement.end_lineno or statement.lineno])
            if LAZY_MARK not in text:
                where = f"{path.relative_to(SOURCE.parent)}:{statement.lineno}"
                unexplained.append(f"{where} {', '.join(_names(statement))}")
    assert unexplained == [], "function-local imports without '# lazy: why':\n" + "\n".join(
        unexplained
    )


def test_the_package_ships_its_type_information() -> None:
    assert (SOURCE / "py.typed").is_file()
