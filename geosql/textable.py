"""Plain-text tables for terminals (polars' own renderer with fixed, readable settings)."""

from __future__ import annotations

from typing import Any


def text_table(df: Any) -> str:
    """A polars DataFrame as a text table: all rows up to 200, no shape or dtypes."""
    import polars as pl

    with pl.Config(
        tbl_rows=200,
        tbl_cols=30,
        fmt_str_lengths=60,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_width_chars=200,
    ):
        return str(df)
