"""The ingest benchmark still runs, end to end, on the database kind under test."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "ingest.py"


def test_the_ingest_benchmark_runs_a_round_and_judges_every_target(scratch_url: str) -> None:
    bounds = ["--seconds", "0.5", "--max-requests", "40", "--rounds", "1"]
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(BENCH), "--database-url", scratch_url, *bounds],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr  # no request failed
    lines = result.stdout.splitlines()
    assert "round 1" in {line.strip() for line in lines}
    judged = lines[lines.index("targets (the median of 1 round):") + 1 :]
    assert [line.split()[0] in {"PASS", "MISS"} for line in judged] == [True] * 5
