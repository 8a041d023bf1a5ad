# Figure stage: the paper's Figs. 2-4 and the suite's own figures, each as PNG + PDF under figures/.
# A figure whose runs the config does not enable is not a target (common.smk: figure_inputs raises
# at DAG time, figure_targets leaves it out of `all`). Single-run figures show first_seed()'s run.
# Figures drawn from small files are local rules (they run beside Snakemake on a cluster); Fig. 4's
# t-SNE and its variant training runs are cluster jobs.


rule fig2:
    localrule: True
    input:
        metrics=lambda w: figure_inputs(f"fig2_{w.panel}"),
    output:
        png=report("figures/fig2_{panel}.png", caption="../report/fig2.rst", category="Figures",
                   subcategory="Paper figures"),
        pdf="figures/fig2_{panel}.pdf",
    log:
        "logs/figures/fig2_{panel}.log",
    wildcard_constraints:
        panel="|".join(FIG2_PANELS),
    params:
        built_from=BUILT_FROM,
        title=lambda w: FIG2_PANELS[w.panel][1],
    shell:
        "{PY} -m ganem figure samples --run {input.metrics} --title {params.title:q} "
        "--png {output.png} --pdf {output.pdf} > {log} 2>&1"


rule fig3:
    localrule: True
    input:
        metrics=lambda w: figure_inputs(f"fig3_{w.panel}"),
    output:
        png=report("figures/fig3_{panel}.png", caption="../report/fig3.rst", category="Figures",
                   subcategory="Paper figures"),
        pdf="figures/fig3_{panel}.pdf",
    log:
        "logs/figures/fig3_{panel}.log",
    wildcard_constraints:
        panel="|".join(FIG3_PANELS),
    params:
        built_from=BUILT_FROM,
        title=lambda w: FIG3_PANELS[w.panel][1],
    shell:
        "{PY} -m ganem figure samples --run {input.metrics} --title {params.title:q} "
        "--png {output.png} --pdf {output.pdf} > {log} 2>&1"


# Fig. 4's runs: plain GAN-EM runs with a bottleneck layer (or the supervised reference), kept
# under results/variants/ so they never collide with the Table 1 runs of the same cell.
rule run_variant:
    input:
        manifest=manifest,
    output:
        metrics="results/variants/{variant}/ganem/{dataset}/{setting}/K{k}/seed{seed}/metrics.json",
    log:
        "logs/variants/{variant}/{dataset}/{setting}/K{k}/seed{seed}.log",
    wildcard_constraints:
        variant=r"bottleneck\d+|supervised",
        setting=r"unsup|labels(\d+|all)",
        k=r"\d+",
        seed=r"\d+",
    params:
        n_labels=lambda w: parse_setting(w.setting),
        overrides=lambda w: variant_overrides(w.variant, w.dataset),
        settings=lambda w: json.dumps(run_settings(config, "ganem", w.dataset), sort_keys=True),
        out=lambda w, output: str(Path(output.metrics).parent),
    threads: lambda w: run_resources("ganem", w)["threads"]
    resources:
        mem_mb=lambda w: run_resources("ganem", w)["mem_mb"],
        runtime=lambda w, attempt: run_resources("ganem", w, attempt)["runtime"],
        gpu=lambda w: run_resources("ganem", w)["gpu"],
    shell:
        "OMP_NUM_THREADS={threads} {GPU_PIN} --gpus {resources.gpu} -- {PY} -m ganem run --method ganem --dataset {wildcards.dataset} "
        "--k {wildcards.k} --seed {wildcards.seed} --n-labels {params.n_labels} --config {CONFIG_FILE} "
        "{params.overrides} --out {params.out} --no-progress > {log} 2>&1"


rule fig4:
    input:
        metrics=lambda w: figure_inputs("fig4_tsne"),
    output:
        png=report("figures/fig4_tsne.png", caption="../report/fig4.rst", category="Figures",
                   subcategory="Paper figures"),
        pdf="figures/fig4_tsne.pdf",
    log:
        "logs/figures/fig4_tsne.log",
    params:
        built_from=BUILT_FROM,
        panels=lambda w: fig4_panel_args(),
        max_points=lambda w: config["fig4"].get("max_points", 5000),
        seed=lambda w: plan.fig4_seed(config),
    shell:
        "{PY} -m ganem figure tsne {params.panels} --max-points {params.max_points} --seed {params.seed} "
        "--png {output.png} --pdf {output.pdf} > {log} 2>&1"


rule fig_error_per_iteration:
    localrule: True
    input:
        metrics=lambda w: figure_inputs("error_per_iteration"),
    output:
        png=report("figures/error_per_iteration.png", caption="../report/error_per_iteration.rst",
                   category="Figures", subcategory="Beyond the paper"),
        pdf="figures/error_per_iteration.pdf",
    log:
        "logs/figures/error_per_iteration.log",
    params:
        built_from=BUILT_FROM,
    shell:
        "{PY} -m ganem figure iterations --metrics {input.metrics} --png {output.png} --pdf {output.pdf} "
        "> {log} 2>&1"


rule fig_seed_spread:
    localrule: True
    input:
        metrics=lambda w: figure_inputs("seed_spread"),
        table1="results/table1.csv",
    output:
        png=report("figures/seed_spread.png", caption="../report/seed_spread.rst", category="Figures",
                   subcategory="Beyond the paper"),
        pdf="figures/seed_spread.pdf",
    log:
        "logs/figures/seed_spread.log",
    params:
        built_from=BUILT_FROM,
    shell:
        "{PY} -m ganem figure spread --metrics {input.metrics} --table1 {input.table1} "
        "--png {output.png} --pdf {output.pdf} > {log} 2>&1"


rule fig_toy2d:
    localrule: True
    input:
        metrics=lambda w: figure_inputs("toy2d"),
    output:
        png=report("figures/toy2d.png", caption="../report/toy2d.rst", category="Figures",
                   subcategory="Beyond the paper"),
        pdf="figures/toy2d.pdf",
    log:
        "logs/figures/toy2d.log",
    params:
        built_from=BUILT_FROM,
    shell:
        "{PY} -m ganem figure toy2d --metrics {input.metrics} --png {output.png} --pdf {output.pdf} "
        "> {log} 2>&1"


rule fig_table3_errors:
    localrule: True
    input:
        table3=lambda w: figure_inputs("table3_errors"),
    output:
        png=report("figures/table3_errors.png", caption="../report/table3_errors.rst", category="Figures",
                   subcategory="Beyond the paper"),
        pdf="figures/table3_errors.pdf",
    log:
        "logs/figures/table3_errors.log",
    params:
        built_from=BUILT_FROM,
    shell:
        "{PY} -m ganem figure celeba --table3 {input.table3} --png {output.png} --pdf {output.pdf} > {log} 2>&1"


rule fig_ablation_curves:
    localrule: True
    input:
        metrics=lambda w: figure_inputs("ablation_curves"),
    output:
        png=report("figures/ablation_curves.png", caption="../report/ablation_curves.rst", category="Figures",
                   subcategory="Beyond the paper"),
        pdf="figures/ablation_curves.pdf",
    log:
        "logs/figures/ablation_curves.log",
    params:
        built_from=BUILT_FROM,
    shell:
        "{PY} -m ganem figure ablation --config {CONFIG_FILE} --metrics {input.metrics} "
        "--png {output.png} --pdf {output.pdf} > {log} 2>&1"


rule fig_budget_curve:
    localrule: True
    input:
        metrics=lambda w: figure_inputs("budget_curve"),
    output:
        png=report("figures/budget_curve.png", caption="../report/budget_curve.rst", category="Figures",
                   subcategory="Beyond the paper"),
        pdf="figures/budget_curve.pdf",
    log:
        "logs/figures/budget_curve.log",
    shell:
        "{PY} -m ganem figure budget --config {CONFIG_FILE} --metrics {input.metrics} "
        "--png {output.png} --pdf {output.pdf} > {log} 2>&1"
