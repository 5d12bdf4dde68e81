"""``genailab synth fit-sample`` and ``genailab synth report`` through a real subprocess."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cli_process import assert_one_line_error, genailab
from data_files import blank_cells, data_file


def test_fit_sample_then_report(tmp_path):
    out = tmp_path / "synth.csv"
    result = genailab(
        "synth", "fit-sample", str(data_file("insurance.csv")), "--rows", "400", "--seed", "3",
        "--bandwidth", "0.2", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "400 synthetic rows" in result.stdout
    synth = pd.read_csv(out)
    real = pd.read_csv(data_file("insurance.csv"))
    assert synth.shape == (400, real.shape[1])
    assert list(synth.columns) == list(real.columns)
    assert set(synth["region"]) <= set(real["region"])
    assert [p.name for p in tmp_path.iterdir()] == ["synth.csv"]  # no temporary file left

    again = tmp_path / "again.csv"
    genailab(
        "synth", "fit-sample", str(data_file("insurance.csv")), "--rows", "400", "--seed", "3",
        "--bandwidth", "0.2", "--out", str(again),
    )  # fmt: skip
    assert again.read_bytes() == out.read_bytes()  # same seed, same file

    report = genailab("synth", "report", str(data_file("insurance.csv")), str(out))
    assert report.returncode == 0, report.stderr
    lines = report.stdout.splitlines()
    assert lines[0] == "holdout: none given: train split 50/50 at random (seed 0)"
    rows = {line.split()[0]: line.split()[-6:] for line in lines[4:]}
    assert set(rows) == {"synthetic", "real", "shuffled"}
    corr = {name: float(cells[4]) for name, cells in rows.items()}
    assert corr["real"] < corr["shuffled"] and corr["synthetic"] < corr["shuffled"]


def test_report_with_holdout(tmp_path):
    real = pd.read_csv(data_file("insurance.csv"))
    real.iloc[:600].to_csv(tmp_path / "train.csv", index=False)
    real.iloc[600:].to_csv(tmp_path / "holdout.csv", index=False)
    result = genailab(
        "synth", "report", str(tmp_path / "train.csv"), str(tmp_path / "train.csv"),
        "--holdout", str(tmp_path / "holdout.csv"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "holdout: given"
    assert "rows: train 600, holdout 738, synthetic 600" in result.stdout


def test_missing_file(tmp_path):
    result = genailab(
        "synth", "fit-sample", str(tmp_path / "nope.csv"), "--rows", "5",
        "--out", str(tmp_path / "o.csv"),
    )  # fmt: skip
    assert_one_line_error(result, "nope.csv: no such file")
    assert not (tmp_path / "o.csv").exists()


def test_bad_method(tmp_path):
    result = genailab(
        "synth", "fit-sample", str(data_file("insurance.csv")), "--rows", "5",
        "--method", "gan", "--out", str(tmp_path / "o.csv"),
    )  # fmt: skip
    assert_one_line_error(result, "unknown method 'gan'", "extrapolate")


def test_text_in_a_numeric_column(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("age,bmi\n19,27.9\n18,thirty\n28,33.0\n33,22.7\n")
    result = genailab("synth", "fit-sample", str(bad), "--rows", "5", "--out", str(tmp_path / "o"))
    assert_one_line_error(result, "column 'bmi' holds numbers but line 3 has 'thirty'")
    report = genailab("synth", "report", str(data_file("insurance.csv")), str(bad))
    assert_one_line_error(report, "column 'bmi' holds numbers")


def test_telecom_blanks_and_identifier(tmp_path):
    rows, blank_lines = blank_cells("telecom.csv", "TotalCharges")
    k = len(blank_lines)
    assert k == 11  # tests/data keeps every blank TotalCharges of IBM's table
    out = tmp_path / "o.csv"
    result = genailab(
        "synth", "fit-sample", str(data_file("telecom.csv")), "--rows", "20000",
        "--method", "copula", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stdout.splitlines() if line.startswith("note: ")]
    assert len(notes) == 3
    assert f"'customerID' is an identifier (a different value in each of {rows} rows)" in notes[0]
    assert f"'TotalCharges' has {k} missing cells (first on line {blank_lines[0]})" in notes[1]
    assert f"the {k} rows with a missing cell are left out of the fit" in notes[1]
    assert f"copula: {rows - k} rows of" in result.stdout
    synth = pd.read_csv(out)
    real = pd.read_csv(data_file("telecom.csv"))
    assert list(synth.columns) == [c for c in real.columns if c != "customerID"]
    # Blanks come back at the real rate p = k / rows: the count is binomial(20000, p).
    blanks = int(synth["TotalCharges"].isna().sum())
    assert f"({blanks} of 20000 rows have some" in notes[2]
    p = k / rows
    assert abs(blanks - 20000 * p) <= 4 * math.sqrt(20000 * p * (1 - p))
    assert synth.drop(columns="TotalCharges").notna().all().all()
    assert synth["tenure"].dtype == "int64"

    dropped = tmp_path / "d.csv"
    result = genailab(
        "synth", "fit-sample", str(data_file("telecom.csv")), "--rows", "500",
        "--method", "copula", "--missing", "drop", "--out", str(dropped),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert pd.read_csv(dropped).notna().all().all()

    report = genailab("synth", "report", str(data_file("telecom.csv")), str(out))
    assert report.returncode == 0, report.stderr
    assert f"the {blanks} rows with a missing cell are left out of the scores" in report.stdout
    assert f"synthetic {20000 - blanks}" in report.stdout


def test_one_value_column(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("age,flag\n19,1\n18,1\n28,1\n33,1\n")
    result = genailab("synth", "fit-sample", str(bad), "--rows", "5", "--out", str(tmp_path / "o"))
    assert_one_line_error(result, "column 'flag' has one value only (1)")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the file is empty"),
        ("age,bmi\n", "a header but no rows"),
        ("a,b\n1,\n2, \n", "column 'b' has no value in any of its 2 rows"),
    ],
)
def test_empty_tables(tmp_path, text, fragment):
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    result = genailab("synth", "fit-sample", str(bad), "--rows", "5", "--out", str(tmp_path / "o"))
    assert_one_line_error(result, fragment)


def test_report_columns_differ(tmp_path):
    real = pd.read_csv(data_file("insurance.csv"))
    real.drop(columns="bmi").to_csv(tmp_path / "s.csv", index=False)
    insurance = str(data_file("insurance.csv"))
    result = genailab("synth", "report", insurance, str(tmp_path / "s.csv"))
    assert_one_line_error(result, "missing ['bmi']")


def test_output_folder_missing(tmp_path):
    result = genailab(
        "synth", "fit-sample", str(data_file("insurance.csv")), "--rows", "5",
        "--out", str(tmp_path / "no" / "o.csv"),
    )  # fmt: skip
    assert_one_line_error(result, "does not exist")


def test_bandwidth_only_where_the_method_takes_it(tmp_path):
    result = genailab(
        "synth", "fit-sample", str(data_file("insurance.csv")), "--rows", "5",
        "--method", "bins", "--bandwidth", "0.2", "--out", str(tmp_path / "o.csv"),
    )  # fmt: skip
    assert_one_line_error(result, "method 'bins' (BinSynthesizer) does not take --bandwidth")


def test_quiet_keeps_only_the_result_and_every_option_has_help(tmp_path, capsys):
    from genailab.lab.cli import _parser, _subparser, main

    out = tmp_path / "o.csv"
    argv = ["synth", "fit-sample", str(data_file("telecom.csv")), "--rows", "1000"]
    assert main([*argv, "--method", "copula", "--out", str(out), "--quiet"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("copula: ")
    assert main(["synth", "report", str(data_file("telecom.csv")), str(out), "--quiet"]) == 0
    assert "note:" not in capsys.readouterr().out
    synth = _subparser(_parser(), "synth")
    for verb in ("fit-sample", "report"):
        options = _subparser(synth, verb)._actions
        assert [a.dest for a in options if not a.help] == [], verb
        assert {"--seed", "--quiet"} <= {s for a in options for s in a.option_strings}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--seed", "-1"], "--seed: expected an integer in [0, 4294967295], got '-1'"),
        (["--rows", "1000000000"], "--rows: expected an integer in [1, 100000000]"),
        (["--bandwidth", "11"], "--bandwidth: expected a finite number in [0, 10], got '11'"),
        (["--bandwidth", "nan"], "--bandwidth: expected a finite number in [0, 10], got 'nan'"),
    ],
)
def test_every_number_is_bounded(tmp_path, capsys, args, fragment):
    from genailab.lab.cli import main

    rows = [] if "--rows" in args else ["--rows", "5"]
    argv = ["synth", "fit-sample", str(data_file("insurance.csv")), *rows, *args]
    assert main([*argv, "--out", str(tmp_path / "o.csv")]) == 2
    assert fragment in capsys.readouterr().err


def test_rows_that_would_not_fit_in_memory_are_refused_first(tmp_path, capsys, monkeypatch):
    from genailab.lab.cli import main

    monkeypatch.setattr("genailab.memory.available_bytes", lambda: 2**30)
    argv = ["synth", "fit-sample", str(data_file("insurance.csv")), "--rows", "10000000"]
    assert main([*argv, "--out", str(tmp_path / "o.csv")]) == 2
    # 10 million rows x 7 columns x 48 bytes a cell
    assert capsys.readouterr().err == (
        "genailab: error: 10000000 synthetic rows of 7 columns would need about 3.1 GiB of "
        "memory; 1.0 GiB is available\n"
    )
    assert list(tmp_path.iterdir()) == []
