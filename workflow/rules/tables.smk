# Table stage: aggregate run metrics into the paper's tables, beside the paper's own values, plus
# the suite's own tables (toy 2-D, one row per run) and the reproduction summary. Every rule calls
# one `python -m ganem` subcommand; the input lists come from common.smk. All are local rules:
# they read and write small files, so on a cluster they run beside Snakemake instead of queueing.


rule table1:
    localrule: True
    input:
        metrics=table1_runs(),
    output:
        csv=report(
            "results/table1.csv",
            caption="../report/table1.rst",
            category="Table 1",
        ),
        md=report(
            "results/table1.md",
            caption="../report/table1.rst",
            category="Table 1",
        ),
    log:
        "logs/tables/table1.log",
    params:
        built_from=BUILT_FROM,
    shell:
        "{PY} -m ganem table1 --config {CONFIG_FILE} --source {CONFIG_SOURCE} --metrics {input.metrics} "
        "--csv {output.csv} --md {output.md} > {log} 2>&1"


# Tables 2 and 3 read the same CelebA runs. Asked for by name under a config without a celeba
# section they still build: the paper's values with every measured cell empty.
rule table2:
    localrule: True
    input:
        metrics=celeba_runs(),
    output:
        csv=report("results/table2.csv", caption="../report/table2.rst", category="Table 2"),
        md=report("results/table2.md", caption="../report/table2.rst", category="Table 2"),
    log:
        "logs/tables/table2.log",
    params:
        built_from=BUILT_FROM,
    shell:
        "{PY} -m ganem table2 --config {CONFIG_FILE} --source {CONFIG_SOURCE} --metrics {input.metrics} "
        "--csv {output.csv} --md {output.md} > {log} 2>&1"


rule table3:
    localrule: True
    input:
        metrics=celeba_runs(),
    output:
        csv=report("results/table3.csv", caption="../report/table3.rst", category="Table 3"),
        md=report("results/table3.md", caption="../report/table3.rst", category="Table 3"),
    log:
        "logs/tables/table3.log",
    params:
        built_from=BUILT_FROM,
    shell:
        "{PY} -m ganem table3 --config {CONFIG_FILE} --source {CONFIG_SOURCE} --metrics {input.metrics} "
        "--csv {output.csv} --md {output.md} > {log} 2>&1"


rule toy2d_table:
    localrule: True
    input:
        metrics=lambda w: figure_inputs("toy2d"),  # same runs, same "not a target" rule as the figure
    output:
        csv=report("results/toy2d.csv", caption="../report/toy2d_table.rst", category="Toy 2-D"),
        summary=report("results/toy2d_summary.csv", caption="../report/toy2d_table.rst", category="Toy 2-D"),
        md=report("results/toy2d.md", caption="../report/toy2d_table.rst", category="Toy 2-D"),
    log:
        "logs/tables/toy2d.log",
    params:
        built_from=BUILT_FROM,
    shell:
        "{PY} -m ganem toy2d --source {CONFIG_SOURCE} --metrics {input.metrics} --csv {output.csv} "
        "--summary-csv {output.summary} --md {output.md} > {log} 2>&1"


rule runs_table:
    localrule: True
    input:
        metrics=all_runs(),
    output:
        report("results/runs.csv", caption="../report/runs.rst", category="Runs"),
    log:
        "logs/tables/runs.log",
    params:
        built_from=BUILT_FROM,
    shell:
        "{PY} -m ganem runs --metrics {input.metrics} --csv {output} > {log} 2>&1"


rule summary:
    localrule: True
    input:
        unpack(summary_inputs),
    output:
        csv=report("results/summary.csv", caption="../report/summary.rst", category="Summary"),
        md=report("results/summary.md", caption="../report/summary.rst", category="Summary"),
    log:
        "logs/tables/summary.log",
    params:
        built_from=BUILT_FROM,
        celeba=lambda w, input: (
            f"--table2 {input.table2} --table3 {input.table3}" if "table2" in input.keys() else ""
        ),
    shell:
        "{PY} -m ganem summary --config {CONFIG_FILE} --source {CONFIG_SOURCE} --table1 {input.table1} {params.celeba} "
        "--csv {output.csv} --md {output.md} > {log} 2>&1"


# One table's verdicts without the other tables' runs: results/summary_table1.md needs Table 1 only,
# where results/summary.md needs Tables 1-3 (CelebA under config/config.yaml).
rule summary_of_table:
    localrule: True
    input:
        table="results/{table}.csv",
    output:
        csv=report("results/summary_{table}.csv", caption="../report/summary.rst", category="Summary"),
        md=report("results/summary_{table}.md", caption="../report/summary.rst", category="Summary"),
    log:
        "logs/tables/summary_{table}.log",
    wildcard_constraints:
        table="table1|table2|table3",
    params:
        built_from=BUILT_FROM,
    shell:
        "{PY} -m ganem summary --config {CONFIG_FILE} --source {CONFIG_SOURCE} --only {wildcards.table} "
        "--{wildcards.table} {input.table} --csv {output.csv} --md {output.md} > {log} 2>&1"


rule ablation_table:
    localrule: True
    input:
        metrics=ablation_runs(),
    output:
        csv=report("results/ablation.csv", caption="../report/ablation.rst", category="Ablation"),
        md=report("results/ablation.md", caption="../report/ablation.rst", category="Ablation"),
    log:
        "logs/tables/ablation.log",
    params:
        built_from=BUILT_FROM,
    shell:
        "{PY} -m ganem ablation --config {CONFIG_FILE} --source {CONFIG_SOURCE} --metrics {input.metrics} "
        "--csv {output.csv} --md {output.md} > {log} 2>&1"


rule budget_table:
    localrule: True
    input:
        metrics=lambda w: figure_inputs("budget_curve"),  # same runs, same "not a target" rule as the figure
    output:
        csv=report("results/budget.csv", caption="../report/budget.rst", category="Budget sweep"),
        md=report("results/budget.md", caption="../report/budget.rst", category="Budget sweep"),
    log:
        "logs/tables/budget.log",
    shell:
        "{PY} -m ganem budget --config {CONFIG_FILE} --source {CONFIG_SOURCE} --metrics {input.metrics} "
        "--csv {output.csv} --md {output.md} > {log} 2>&1"
