# Data stage: the only place anything is downloaded. One fetch per dataset family (mnist, svhn,
# celeba, ...): every celeba-<Attribute> run depends on data/manifests/celeba.json, so the CelebA
# files are downloaded and verified once. Training jobs depend on the manifest, so they never start
# before the files are present and verified (md5), and never download themselves. `fetch` holds a
# lock in data_dir, so two Snakemake processes sharing a data_dir do not fetch into it at once.
# A local rule: on a cluster it runs where Snakemake runs (compute nodes often have no internet).


rule fetch_data:
    localrule: True
    output:
        "data/manifests/{dataset}.json",
    log:
        "logs/data/{dataset}.log",
    wildcard_constraints:
        dataset="|".join(data.DATASETS),
    params:
        data_dir=config["data_dir"],
        download="--download" if config.get("download", True) else "--no-download",
    shell:
        "{PY} -m ganem fetch --dataset {wildcards.dataset} --data-dir {params.data_dir} "
        "{params.download} --out {output} > {log} 2>&1"
