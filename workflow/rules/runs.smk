# Run stage: one job per (method, dataset, setting, K, seed). The method's resolved parameters are
# a param, so changing one method's settings reruns only that method's jobs.


rule run:
    input:
        manifest="data/manifests/{dataset}.json",
    output:
        metrics="results/runs/{method}/{dataset}/{setting}/K{k}/seed{seed}/metrics.json",
        predictions="results/runs/{method}/{dataset}/{setting}/K{k}/seed{seed}/predictions.npy",
    log:
        "logs/runs/{method}/{dataset}/{setting}/K{k}/seed{seed}.log",
    wildcard_constraints:
        setting=r"unsup|labels\d+",
        k=r"\d+",
        seed=r"\d+",
    params:
        n_labels=lambda w: labels_of(w.setting),
        method_params=lambda w: json.dumps(method_params(config, w.method, w.dataset), sort_keys=True),
        out=lambda w, output: str(Path(output.metrics).parent),
    threads: config.get("threads_per_job", 1)
    resources:
        mem_mb=lambda w: 8000 if is_neural(w.method) else 4000,
        gpu=lambda w: config.get("gpus_per_job", 0) if is_neural(w.method) else 0,
    shell:
        "OMP_NUM_THREADS={threads} {PY} -m ganem run --method {wildcards.method} "
        "--dataset {wildcards.dataset} --k {wildcards.k} --seed {wildcards.seed} "
        "--n-labels {params.n_labels} --config {CONFIG_FILE} --out {params.out} --no-progress "
        "> {log} 2>&1"
