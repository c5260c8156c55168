"""The docs keep up with the code: every view, stage and stage setting is documented, and the
library never imports the CLI."""

from __future__ import annotations

import ast
import re

from geosql.paths import REPO_ROOT, sql_dir
from geosql.registry import registry


def _docs() -> str:
    files = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def test_every_view_is_documented():
    text = _docs()
    missing = [f.stem for f in sorted((sql_dir() / "views").glob("*.sql")) if f.stem not in text]
    assert not missing, f"views not named in README.md or docs/*.md: {missing}"


def test_every_view_declares_its_grain():
    missing = [
        f.name
        for f in sorted((sql_dir() / "views").glob("*.sql"))
        if not re.search(r"^--\s*grain:", f.read_text(encoding="utf-8"), re.M)
    ]
    assert not missing, f"views without a '-- grain:' header line: {missing}"


def test_every_stage_and_setting_is_documented():
    registry.load()
    text = _docs()
    missing = []
    for st in registry.stages.values():
        if st.name.startswith("test-"):
            continue
        if f"`{st.name}`" not in text and f"run {st.name}" not in text:
            missing.append(st.name)
        for k in st.defaults:
            if not re.search(rf"\b{re.escape(k)}\b", text):
                missing.append(f"{st.name}: {k}")
    assert not missing, f"not in README.md or docs/*.md: {missing}"


def test_the_library_never_imports_the_cli():
    offenders = []
    for root in ("geosql", "udfs"):
        for f in sorted((REPO_ROOT / root).rglob("*.py")):
            rel = f.relative_to(REPO_ROOT).as_posix()
            if rel.startswith("geosql/cli/") or f.name in {"cli.py"}:
                continue
            for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(n == "click" or n.startswith(("click.", "geosql.cli")) for n in names):
                    offenders.append(rel)
    assert not offenders, f"library modules importing click or geosql.cli: {sorted(set(offenders))}"


def test_no_module_is_too_long():
    long = [
        f"{f.relative_to(REPO_ROOT)} ({n})"
        for root in ("geosql", "udfs")
        for f in sorted((REPO_ROOT / root).rglob("*.py"))
        if (n := len(f.read_text(encoding="utf-8").splitlines())) > 550
    ]
    assert not long, f"modules over 550 lines: {long}"


def test_every_family_loads():
    registry.load()
    assert not registry.broken, registry.broken
