"""`paperboy summarize` in a real process, against the fake endpoint."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.summarize.conftest import DAY, Archive, papers

ROOT = Path(__file__).resolve().parents[2]
MAIN = "from bot.cli.commands import main; raise SystemExit(main())"


async def paperboy(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run `paperboy ARGS…` in a subprocess; (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        MAIN,
        *args,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_json_last_line(archive: Archive, tmp_path: Path) -> None:
    """`--json` ends with one object of the counts; a second run is served from the cache."""
    await archive.store(papers(3))
    env = {
        "DATABASE_URL": archive.url,
        "SUMMARY_API_BASE_URL": archive.fake.base_url,
        "SUMMARY_MODEL": "fake-model",
    }
    code, out, err = await paperboy("summarize", DAY.isoformat(), "--json", env=env, cwd=tmp_path)
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert {"papers", "summarized", "cached", "failed", "errors"} <= set(result)
    assert (result["papers"], result["summarized"], result["failed"]) == (3, 3, 0)
    assert result["errors"] == []
    assert result["prompt_tokens"] > 0
    code, out, _ = await paperboy("summarize", DAY.isoformat(), "--json", env=env, cwd=tmp_path)
    assert json.loads(out.strip().splitlines()[-1])["cached"] == 3
    assert archive.fake.total_calls == 3


async def test_without_an_endpoint_it_explains_and_exits_2(tmp_path: Path) -> None:
    """No SUMMARY_API_BASE_URL: one clear line naming it, exit code 2."""
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/db.sqlite3", "SUMMARY_API_BASE_URL": ""}
    code, out, err = await paperboy("summarize", "--json", env=env, cwd=tmp_path)
    assert code == 2
    assert "SUMMARY_API_BASE_URL is not set" in err
    assert out == ""
