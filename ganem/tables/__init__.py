"""Aggregating runs into the paper's tables: measured mean +- std over seeds beside the paper's values.

One row per cell, long format, as benchopt keeps results; the Markdown rendering lays the same rows
out like the paper's table. Paper values come from ``ganem/paper_values/*.csv`` (transcribed, with
their source) and are always labelled as paper values. Errors are in percent everywhere.

- Table 1 (MNIST, SVHN): one row per (method, column, K).
- Table 3 (CelebA, K=2 per attribute): one row per (printed paper row, setting, method); the
  paper's 40 printed rows are kept as printed and mapped explicitly to CelebA attributes
  (``paper_values/table3.csv``), plus a row for every run attribute the paper does not print.
- Table 2 (CelebA averages): one row per (method, setting) the paper prints or this config runs.
- toy2d: per-seed errors of the 2-D mixtures and their mean/std per dataset x method.
- runs: one row per run (the reviewers' single file).
"""
from __future__ import annotations

from ganem.tables.celeba import (CELEBA_SETTINGS, N_PAPER_ROWS, SETTING_HEADINGS, TABLE2_FIELDS, TABLE3_FIELDS,
                                 celeba_attributes, celeba_configured, celeba_setting, paper_table3, percent,
                                 read_celeba_runs, table2_frame, table2_markdown, table3_frame, table3_markdown,
                                 write_table2, write_table3)
from ganem.tables.common import (RUN_COLUMNS, STAND_INS, method_index, method_order, paper_values, read_runs,
                                 summarise, title, write_csv_and_markdown)
from ganem.tables.runs import RUNS_FIELDS, runs_frame, variant_of, write_runs
from ganem.tables.table1 import TABLE1_COLUMNS, TABLE1_FIELDS, table1_frame, table1_markdown, write_table1
from ganem.tables.toy2d import TOY_FIELDS, TOY_SUMMARY_FIELDS, toy2d_frames, toy2d_markdown, write_toy2d
