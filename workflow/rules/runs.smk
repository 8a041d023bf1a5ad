# Run stage: one job per (method, dataset, setting, K, seed), or with seeds_per_job S >= 2 one job
# per pack of S seeds of a cell (ganem.plan.seed_packs). The run's settings (ganem.config.run_settings:
# its method's parameters and its dataset's settings) are a param, so changing one method's or one
# dataset's settings reruns only the jobs that read them. Threads, memory, runtime
# (from the run's cost) and GPUs come from ganem/job_resources.py, for every executor.


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
        n_labels=lambda w: parse_setting(w.setting),
        settings=lambda w: json.dumps(run_settings(config, w.method, w.dataset), sort_keys=True),
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


# Packed seeds: one rule per pack, its outputs the packed seeds' own run files. Snakemake prefers a
# rule without wildcards to `run` for the same file, so a packed seed is never trained twice.
for index, pack in enumerate(plan.seed_packs(config)):
    folders = [run_dir(pack.method, pack.dataset, pack.n_labels, pack.k, seed) for seed in pack.seeds]
    first = folders[0].rsplit("/", 1)[0]
    resources_of_pack = training_resources(config, pack.method, pack.dataset, pack.n_labels, pack.k,
                                           n_seeds=len(pack.seeds))

    rule:
        name:
            f"run_pack_{index}"
        input:
            manifest=manifest_of(pack.dataset),
        output:
            metrics=[f"{folder}/metrics.json" for folder in folders],
            predictions=[f"{folder}/predictions.npy" for folder in folders],
        log:
            f"logs/runs/{first.removeprefix('results/runs/')}/seeds{'_'.join(map(str, pack.seeds))}.log",
        params:
            # a function: a plain string's {seed} would be read as a wildcard
            args=lambda w, pack=pack, first=first: shlex.join([
                "--method", pack.method, "--dataset", pack.dataset, "--k", str(pack.k), "--n-labels",
                str(pack.n_labels), "--out", f"{first}/seed{{seed}}", "--seed", *map(str, pack.seeds)]),
            settings=json.dumps(run_settings(config, pack.method, pack.dataset), sort_keys=True),
        threads: resources_of_pack["threads"]
        resources:
            mem_mb=resources_of_pack["mem_mb"],
            runtime=lambda w, attempt, pack=pack: training_resources(
                config, pack.method, pack.dataset, pack.n_labels, pack.k, attempt, len(pack.seeds))["runtime"],
            gpu=resources_of_pack["gpu"],
        shell:
            "OMP_NUM_THREADS={threads} {GPU_PIN} --gpus {resources.gpu} -- {PY} -m ganem run {params.args} "
            "--config {CONFIG_FILE} --no-progress > {log} 2>&1"


# Continued runs (budget sweep): a longer budget whose parameters differ from a shorter run's only in
# the run's length starts from that run's final checkpoint (ganem.plan.continuations), so each seed's
# longest budget is trained once. One rule per continued run, preferred to `run` as packs are.
for index, (run, shorter) in enumerate(plan.continuations(config).items()):
    folder = run_dir(run.method, run.dataset, run.n_labels, run.k, run.seed)
    shorter_folder = run_dir(shorter.method, shorter.dataset, shorter.n_labels, shorter.k, shorter.seed)
    resources_of_run = training_resources(config, run.method, run.dataset, run.n_labels, run.k)

    rule:
        name:
            f"run_continued_{index}"
        input:
            manifest=manifest_of(run.dataset),
            shorter=f"{shorter_folder}/metrics.json",
        output:
            metrics=f"{folder}/metrics.json",
            predictions=f"{folder}/predictions.npy",
        log:
            f"logs/runs/{folder.removeprefix('results/runs/')}.log",
        params:
            args=shlex.join(["--method", run.method, "--dataset", run.dataset, "--k", str(run.k), "--n-labels",
                             str(run.n_labels), "--seed", str(run.seed), "--out", folder,
                             "--continue-from", shorter_folder]),
            settings=json.dumps(run_settings(config, run.method, run.dataset), sort_keys=True),
        threads: resources_of_run["threads"]
        resources:
            mem_mb=resources_of_run["mem_mb"],
            runtime=lambda w, attempt, run=run: training_resources(
                config, run.method, run.dataset, run.n_labels, run.k, attempt)["runtime"],
            gpu=resources_of_run["gpu"],
        shell:
            "OMP_NUM_THREADS={threads} {GPU_PIN} --gpus {resources.gpu} -- {PY} -m ganem run {params.args} "
            "--config {CONFIG_FILE} --no-progress > {log} 2>&1"
