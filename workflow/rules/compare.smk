# The decoder, baselines on the same data and metrics, the summary and comparison figures.


rule train_decoder:
    """A decoder fitted on the frozen encoder (reconstruction loss): the full autoencoder."""
    input:
        encoder=f"{RESULTS}/runs/{{run}}/encoder.keras",
        train=lambda w: f"{RESULTS}/data/{run_config(w).dataset}/train.zarr",
        code=code("train_decoder"),
    output:
        decoder=f"{RESULTS}/runs/{{run}}/decoder.keras",
    params:
        run=lambda w: to_params(run_config(w)),
        decoder_config=to_params(EXPERIMENT.decoder),
    log:
        f"{RESULTS}/logs/train_decoder/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train_decoder/{{run}}.tsv"
    resources:
        mem_mb=RESOURCES.train_mem_mb,
        runtime=RESOURCES.train_runtime,
        gpu=RESOURCES.train_gpus,
    threads: RESOURCES.threads
    conda:
        "../envs/isoflat.yaml"
    script:
        "../scripts/train_decoder.py"


rule baseline:
    """A baseline fitted on the training images, scored by the evaluation of the dataset's first run."""
    input:
        train=lambda w: samples_path(w.dataset),
        test=lambda w: dataset_test_path(w.dataset),
        code=lambda w: code("baseline", [w.dataset], [w.method]),
    output:
        latent=directory(f"{RESULTS}/baselines/{{dataset}}/{{method}}/seed{{seed}}/latent.zarr"),
        metrics=f"{RESULTS}/baselines/{{dataset}}/{{method}}/seed{{seed}}/metrics.json",
    params:
        dataset=lambda w: to_params(EXPERIMENT.datasets[w.dataset]),
        encoder=lambda w: to_params(reference_run(w.dataset).encoder),
        pairs=lambda w: to_params(reference_run(w.dataset).pairs),
        baselines=to_params(EXPERIMENT.baselines),
        evaluation=to_params(EXPERIMENT.evaluation),
    log:
        f"{RESULTS}/logs/baseline/{{dataset}}-{{method}}-seed{{seed}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/baseline/{{dataset}}-{{method}}-seed{{seed}}.tsv"
    resources:
        mem_mb=RESOURCES.train_mem_mb,
        runtime=RESOURCES.train_runtime,
    threads: RESOURCES.threads
    conda:
        "../envs/isoflat.yaml"
    script:
        "../scripts/baseline.py"


rule summary:
    """One row per (dataset, method, seed), and mean ± std over seeds as Markdown."""
    input:
        metrics=all_metrics(),
        code=code("summary"),
    output:
        table=report(f"{RESULTS}/summary.csv", caption="../report/summary.rst", category="Summary"),
        markdown=f"{RESULTS}/summary.md",
    log:
        f"{RESULTS}/logs/summary.log",
    benchmark:
        f"{RESULTS}/benchmarks/summary.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    threads: 1
    conda:
        "../envs/isoflat.yaml"
    script:
        "../scripts/summary.py"


rule comparison_figures:
    """Embeddings, interpolation strips, interpolation error and headline bars of all methods."""
    input:
        latents=lambda w: [latent for latent, _ in first_seed_of_each_method(w.dataset).values()],
        metrics=lambda w: [metrics for *_, metrics in evaluations(w.dataset)],
        code=code("comparison_figures"),
    output:
        embeddings=report(
            f"{RESULTS}/figures/{{dataset}}/comparison_embeddings.png",
            caption="../report/comparison_embeddings.rst",
            category="Comparison",
            subcategory="{dataset}",
        ),
        strips=report(
            f"{RESULTS}/figures/{{dataset}}/comparison_strips.png",
            caption="../report/comparison_strips.rst",
            category="Comparison",
            subcategory="{dataset}",
        ),
        interpolation=report(
            f"{RESULTS}/figures/{{dataset}}/comparison_interpolation.png",
            caption="../report/comparison_interpolation.rst",
            category="Comparison",
            subcategory="{dataset}",
        ),
        bars=report(
            f"{RESULTS}/figures/{{dataset}}/comparison_bars.png",
            caption="../report/comparison_bars.rst",
            category="Comparison",
            subcategory="{dataset}",
        ),
    params:
        chosen=lambda w: first_seed_of_each_method(w.dataset),
    log:
        f"{RESULTS}/logs/comparison_figures/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/comparison_figures/{{dataset}}.tsv"
    resources:
        mem_mb=2000,
        runtime=10,
    threads: 1
    conda:
        "../envs/isoflat.yaml"
    script:
        "../scripts/comparison_figures.py"
