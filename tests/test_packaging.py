"""Packaging: an SPDX license, and the 105 MB kiwipiepy only in the optional `bench` extra."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_is_an_spdx_expression_setuptools_understands() -> None:
    """`project.license` is a string (the table form is deprecated) and setuptools >= 77."""
    assert PYPROJECT["project"]["license"] == "MIT"
    requires = " ".join(PYPROJECT["build-system"]["requires"])
    found = re.search(r"setuptools>=(\d+)", requires)
    assert found is not None
    assert int(found.group(1)) >= 77


def test_kiwipiepy_is_only_in_the_bench_extra() -> None:
    """The bot does not install kiwipiepy; `pip install -e '.[bench]'` (make bench) does."""
    project = PYPROJECT["project"]
    assert not [d for d in project["dependencies"] if d.startswith("kiwipiepy")]
    assert any(d.startswith("kiwipiepy") for d in project["optional-dependencies"]["bench"])
    assert ".[dev,bench]" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_no_test_and_no_bot_module_imports_kiwipiepy() -> None:
    """Only the benchmark that compares analysers imports it."""
    pattern = re.compile(r"^\s*(?:import|from)\s+kiwipiepy\b", re.MULTILINE)
    users = [
        path.relative_to(ROOT).as_posix()
        for folder in ("bot", "handlers", "storage", "tests", "bench")
        for path in (ROOT / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert users == ["bench/search_analysers.py"]


def test_the_analyser_benchmark_without_kiwipiepy_says_how_to_get_it() -> None:
    """Without kiwipiepy the benchmark exits with one line naming the extra, no traceback."""
    code = (
        "import sys; sys.modules['kiwipiepy'] = None; sys.argv = ['search_analysers']\n"
        "from bench.search_analysers import main; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "pip install -e '.[bench]'" in done.stderr.strip().splitlines()[-1]
