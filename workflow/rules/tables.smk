# Table stage: aggregate run metrics into the paper's tables, beside the paper's own values.


rule table1:
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
    shell:
        "{PY} -m ganem table1 --config {CONFIG_FILE} --metrics {input.metrics} "
        "--csv {output.csv} --md {output.md} > {log} 2>&1"
