# GAN-EM benchmark suite: data -> one job per (method, dataset, setting, K, seed) -> tables, figures.
#
#   snakemake --cores 8 all                                   # the paper's settings (GPU, internet)
#   snakemake --cores 2 all --configfile config/quick.yaml    # the offline CPU default (make quick)
#   snakemake results/table1.csv                              # one table, only the jobs it needs
#
# A --configfile replaces config/config.yaml (it is not merged into it); --config key=value
# overrides single values. The config is validated before any job runs.
from snakemake.utils import min_version

min_version("9.0")

if not workflow.overwrite_configfiles:
    configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/runs.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/figures.smk"


rule all:
    input:
        all_targets(),
    default_target: True
