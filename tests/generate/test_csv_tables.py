"""How the synth commands read CSV tables: missing cells, identifiers, numbers stored as text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from genailab.evaluate import TableError
from genailab.generate.csv_tables import prepare_table, read_table, restore_missing


def test_blank_cells_make_a_number_column_numeric(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,n,x,c\na,1,2.5,u\nb,2, ,v\nc,3,,u\nd,4,7,v\n")
    df = read_table(path)
    assert df["x"].dtype == "float64"
    np.testing.assert_array_equal(df["x"].isna(), [False, True, True, False])
    assert df["x"].iloc[3] == 7.0
    assert df["n"].dtype == "int64" and df["c"].tolist() == ["u", "v", "u", "v"]

    table = prepare_table(df, "t.csv")
    assert table.complete["x"].tolist() == [2.5, 7.0]
    assert table.complete["id"].tolist() == ["a", "d"]  # 4 distinct values: too few for an id
    assert table.notes == [
        "t.csv: column 'x' has 2 missing cells (first on line 3); "
        "the 2 rows with a missing cell are left out of the fit"
    ]


def test_identifier_needs_twenty_distinct_rows():
    for n, dropped in ((19, False), (20, True)):
        df = pd.DataFrame({"key": [f"k{i}" for i in range(n)], "v": np.arange(n) % 3})
        table = prepare_table(df, "t")
        assert ("key" not in table.complete.columns) == dropped
        assert len(table.notes) == dropped
    # a repeated value means a category, not an identifier
    df = pd.DataFrame({"key": [f"k{i}" for i in range(29)] + ["k0"], "v": np.arange(30) % 3})
    assert "key" in prepare_table(df, "t").complete.columns


def test_int_column_with_blanks_comes_back_as_int():
    df = pd.DataFrame({"n": [1.0, np.nan, 3.0, 4.0], "y": [0.1, 0.2, np.nan, 0.4]})
    table = prepare_table(df, "t")
    assert table.complete["n"].dtype == "int64" and table.complete["n"].tolist() == [1, 4]
    assert table.complete["y"].dtype == "float64"
    np.testing.assert_array_equal(table.missing, df.isna().to_numpy())


def test_restore_missing_keeps_the_joint_pattern():
    # In the real table 'a' and 'b' are always missing together, in 30% of the rows.
    real = np.zeros((10, 3), dtype=bool)
    real[:3, :2] = True
    synth = pd.DataFrame({"a": np.arange(5000), "b": np.ones(5000), "c": np.ones(5000)})
    out = restore_missing(synth, real, np.random.default_rng(0))
    gaps = out.isna().to_numpy()
    np.testing.assert_array_equal(gaps[:, 0], gaps[:, 1])
    assert not gaps[:, 2].any()
    assert abs(gaps[:, 0].mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 5000)
    assert out["a"].dtype == "Int64"  # still integers, now with gaps
    assert synth.notna().all().all()  # the input is untouched


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,x\n2,y\n", "column 'a' has one value only"),
        ("a,b\n,1\n2,\n", "every row has a missing cell"),
    ],
)
def test_prepare_refuses(tmp_path, text, message):
    path = tmp_path / "t.csv"
    path.write_text(text.replace("1,x\n2,y", "1,x\n1,y"))
    with pytest.raises(TableError, match=message):
        prepare_table(read_table(path), "t")


def test_text_among_numbers_is_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a\n1\n2\nthree\n4\n")
    with pytest.raises(TableError, match="column 'a' holds numbers but line 4 has 'three'"):
        read_table(path)
