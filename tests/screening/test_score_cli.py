"""`ketaguard score` as an operator types it: one JSON object, or one line naming the item."""

import json

import pytest
import typer
from typer.testing import CliRunner

from ketaguard.screening.cli import score_command

app = typer.Typer()
app.command("score")(score_command)


@app.callback()
def _group() -> None:
    """Keep `score` a sub-command, as it is under `ketaguard`."""


runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["score", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["phq9", "--answers", "0,0,0,0,0,0,0,0,1"],
            {"instrument": "phq9", "total": 1, "band": "minimal", "flags": ["item9_positive"]},
        ),
        (
            ["cssrs-screen", "--answers", "1,0,,,,1,0"],
            {
                "instrument": "cssrs-screen",
                "total": None,
                "band": "moderate",
                "flags": [],
                "risk": "moderate",
            },
        ),
        (
            ["audit-c", "--answers", "3,0,0", "--sex", "female"],
            {"instrument": "audit-c", "total": 3, "band": "positive", "flags": ["q1_only"]},
        ),
        (
            ["audit-c", "--answers", "3,0,0", "--sex", "male"],
            {"instrument": "audit-c", "total": 3, "band": "negative", "flags": []},
        ),
        (
            ["pcl5", "--answers", ",".join(["2"] * 15 + ["1"] * 5), "--pcl5-cutoff", "36"],
            {
                "instrument": "pcl5",
                "total": 35,
                "band": "below_cutoff",
                "flags": [],
                "cluster_b_endorsed": 5,
                "cluster_c_endorsed": 2,
                "cluster_d_endorsed": 7,
                "cluster_e_endorsed": 1,
            },
        ),
        (
            ["sds", "--answers", "1, 1, 1, 0, 0", "--sds-cutoff", "3"],
            {"instrument": "sds", "total": 3, "band": "at_or_above_cutoff", "flags": []},
        ),
        (
            ["ketamine-use-disorder", "--answers", "1,0,0,0,0,0,0,0,0,1", "--supervised"],
            {
                "instrument": "ketamine-use-disorder",
                "total": 1,
                "band": "none",
                "flags": ["tolerance_not_counted_supervised"],
                "criteria_counted": ["kud-1"],
            },
        ),
        (
            ["moaas", "--answers", "0"],
            {"instrument": "moaas", "total": 0, "band": None, "flags": ["unresponsive"]},
        ),
    ],
)
def test_success_prints_one_json_object(args: list[str], expected: dict[str, object]) -> None:
    code, out, err = run(*args)
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == 1
    assert json.loads(out) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["phq9", "--answers", "1,1,1"],
            "error: phq9: expected 9 answers (phq9-1 … phq9-9), got 3",
        ),
        (["phq9", "--answers", "0,0,0,5,0,0,0,0,0"], "error: phq9-4: answer 5 is out of range 0-3"),
        (
            ["cssrs-screen", "--answers", "0,0,1,,,0,"],
            "error: cssrs-3: must not be answered: asked only when cssrs-2 is 1 (Yes)",
        ),
        (
            ["cssrs-screen", "--answers", "0,1,,,,0,"],
            "error: cssrs-3: no answer, but the item is asked",
        ),
        (["gad7", "--answers", "0,0,x,0,0,0,0"], "error: gad7-3: answer 'x' is not an integer"),
        (["phq10", "--answers", "1"], "error: unknown instrument 'phq10'; known: audit-c, cadss6"),
        (["audit-c", "--answers", "1,1,1"], "error: audit-c: sex is required"),
        (
            ["pcl5", "--answers", ",".join(["0"] * 20), "--pcl5-cutoff", "0"],
            "error: pcl5: cut-off 0 is outside 1-80",
        ),
    ],
)
def test_errors_exit_2_naming_the_item(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert (code, out) == (2, "")
    assert err.startswith(message)
    assert len(err.splitlines()) == 1


def test_an_unknown_sex_is_a_usage_error() -> None:
    code, out, err = run("audit-c", "--answers", "1,1,1", "--sex", "other")
    assert (code, out) == (2, "")
    assert "--sex" in err
