# Run stage: one job per (method, dataset, setting, K, seed). The method's resolved parameters are
# a param, so changing one method's settings reruns only that method's jobs. Threads, memory,
# runtime (from the run's cost) and GPUs come from ganem/resources.py, for every executor.


rule run:
    input:
        manifest=manifest,
    output:
        metrics="results/runs/{method}/{dataset}/{setting}/K{k}/seed{seed}/metrics.json",
        predictions="results/runs/{method}/{dataset}/{setting}/K{k}/seed{seed}/predictions.npy",
    log:
        "logs/runs/{method}/{dataset}/{setting}/K{k}/seed{seed}.log",
    wildcard_constraints:
        setting=r"unsup|labels(\d+|all)",
        k=r"\d+",
        seed=r"\d+",
    params:
        n_labels=lambda w: labels_of(w.setting),
        method_params=lambda w: json.dumps(method_params(config, w.method, w.dataset), sort_keys=True),
        out=lambda w, output: str(Path(output.metrics).parent),
    threads: lambda w: run_resources(w.method, w)["threads"]
    resources:
        mem_mb=lambda w: run_resources(w.method, w)["mem_mb"],
        runtime=lambda w, attempt: run_resources(w.method, w, attempt)["runtime"],
        gpu=lambda w: run_resources(w.method, w)["gpu"],
    shell:
        "OMP_NUM_THREADS={threads} {GPU_PIN} --gpus {resources.gpu} -- {PY} -m ganem run --method {wildcards.method} "
        "--dataset {wildcards.dataset} --k {wildcards.k} --seed {wildcards.seed} "
        "--n-labels {params.n_labels} --config {CONFIG_FILE} --out {params.out} --no-progress "
        "> {log} 2>&1"
