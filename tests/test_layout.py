"""The layout of the code (issue 13): the rule of the wings, read from the imports with `ast`, and
rooms of a size one can read.

bot/rules/ holds business rules that know neither Telegram nor SQL: no module there imports
`telegram`, `aiosqlite`, `storage.db` or a repository (anything of `storage` but
`storage.models`), itself or through another module of ours that it imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "bot" / "rules"
WINGS = ("rules", "delivery", "ui", "tools", "reports", "documents", "together", "federation")
MAX_LINES = 600
MAX_BOT_MODULES = 20


def _file_of(module: str) -> Path | None:
    """The file of one of our modules (a package: its __init__.py), None for anything else."""
    base = ROOT.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it: `from p import x` is `p.x` when that is a
    module of ours, `p` otherwise (x is then a name defined in p)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if _file_of(submodule) else node.module)
    return found


def forbidden_in_rules(module: str) -> bool:
    """What a rule may not import: Telegram, SQLite, the database, the repositories."""
    top = module.partition(".")[0]
    return top in {"telegram", "aiosqlite"} or (top == "storage" and module != "storage.models")


def rule_breaches(path: Path) -> list[str]:
    """The forbidden imports of a file and of the modules of ours it imports, with the way."""
    breaches: list[str] = []
    seen: set[Path] = set()
    todo: list[tuple[Path, tuple[str, ...]]] = [(path, ())]
    while todo:
        current, way = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for module in sorted(imports_of(current)):
            if forbidden_in_rules(module):
                through = f" (through {' → '.join(way)})" if way else ""
                breaches.append(f"{module}{through}")
                continue
            ours = _file_of(module) if module.partition(".")[0] in {"bot", "handlers"} else None
            if ours is not None:
                todo.append((ours, (*way, module)))
    return breaches


def _ours() -> list[Path]:
    return sorted(p for d in ("bot", "handlers", "storage") for p in (ROOT / d).rglob("*.py"))


@pytest.mark.parametrize("path", sorted(RULES.glob("*.py")), ids=lambda p: p.name)
def test_a_rule_knows_neither_telegram_nor_sql(path: Path) -> None:
    assert rule_breaches(path) == [], f"{path.relative_to(ROOT)} imports what a rule may not"


def test_the_wing_check_sees_a_rule_that_imports_telegram(tmp_path: Path) -> None:
    rule = tmp_path / "rule.py"
    rule.write_text("from bot.rules.money import money\nfrom telegram import Update\n")
    assert rule_breaches(rule) == ["telegram"]
    rule.write_text("from storage import people\nfrom storage.models import Ticket\n")
    assert rule_breaches(rule) == ["storage.people"]
    rule.write_text("from bot import tickets\n")  # Telegram by way of a use case
    assert "telegram (through bot.tickets)" in rule_breaches(rule)


def test_no_module_is_over_600_lines() -> None:
    sizes = {p: len(p.read_text(encoding="utf-8").splitlines()) for p in _ours()}
    assert {str(p.relative_to(ROOT)): n for p, n in sizes.items() if n > MAX_LINES} == {}


def test_bot_holds_at_most_20_modules_beside_its_wings() -> None:
    modules = sorted(p.name for p in (ROOT / "bot").glob("*.py"))
    assert len(modules) <= MAX_BOT_MODULES, modules


@pytest.mark.parametrize("wing", WINGS)
def test_a_wing_says_in_one_line_what_it_holds(wing: str) -> None:
    source = (ROOT / "bot" / wing / "__init__.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    assert len(tree.body) == 1 and ast.get_docstring(tree), f"bot/{wing}/__init__.py"
    assert len(source.strip().splitlines()) == 1
