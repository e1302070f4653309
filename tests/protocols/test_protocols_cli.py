"""`ketaguard protocols check FILE` as a clinic runs it on its own protocol file."""

import json
import tomllib
from importlib.resources import files
from pathlib import Path

from typer.testing import CliRunner

from ketaguard.protocols.cli import protocols_app

runner = CliRunner()


def builtin_text(protocol_id: str) -> str:
    return files("ketaguard.protocols").joinpath(f"builtin/{protocol_id}.toml").read_text("utf-8")


def check(path: Path) -> tuple[int, str]:
    result = runner.invoke(protocols_app, ["check", str(path)])
    return result.exit_code, result.stdout


def test_a_copy_of_a_builtin_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "our-trd.toml"
    path.write_text(builtin_text("esketamine-trd"), encoding="utf-8")
    assert check(path) == (0, f"{path}: valid (esketamine-trd v1)\n")


def test_json_is_read_by_its_extension(tmp_path: Path) -> None:
    data = tomllib.loads(builtin_text("ketamine-iv-0.5"))
    data["id"], data["version"] = "our-iv", 3
    path = tmp_path / "our-iv.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert check(path) == (0, f"{path}: valid (our-iv v3)\n")


def test_every_error_is_printed_one_per_line(tmp_path: Path) -> None:
    text = (
        builtin_text("esketamine-trd")
        .replace("home_use_allowed = false", "home_use_allowed = true")
        .replace("start_week = 5", "start_week = 6")
        .replace('id = "craving_score"', 'id = "urine_test"')
        .replace("first_dose_mg = { value = 56,", "first_dose_mg = { value = 28,")
    )
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    code, out = check(path)
    assert code == 1
    lines = out.splitlines()
    assert [line.removeprefix(f"{path}: ").split(":")[0] for line in lines] == [
        "home_use_allowed",
        "dose.first_dose_mg.value",
        "phases.1.start_week",
        "pre_dose_checks.10.id",
    ]
    # Printed as text: a source tag such as [S8] is not swallowed as markup.
    assert "[S8][S42]" in lines[0]


def test_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('id = "x"\nversion = \n', encoding="utf-8")
    assert check(path) == (1, f"{path}: line 2, column 11: Invalid value\n")


def test_an_unknown_extension_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "protocol.yaml"
    path.write_text("id: x\n", encoding="utf-8")
    code, out = check(path)
    assert code == 1
    assert out == f"{path}: (root): unsupported file type '.yaml'; use .toml or .json\n"
