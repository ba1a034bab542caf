# Stages 1-2: render point sets of each manifold, sample training pairs.


rule synthesize:
    """Volume-uniform train/test points of a manifold and their images, as a Zarr store."""
    input:
        code=lambda w: code("synthesize", [w.dataset]),
    output:
        store=directory(f"{RESULTS}/data/{{dataset}}/{{split}}.zarr"),
    params:
        dataset=lambda w: to_params(EXPERIMENT.datasets[w.dataset]),
        seed=EXPERIMENT.seed,
    log:
        f"{RESULTS}/logs/synthesize/{{dataset}}-{{split}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/synthesize/{{dataset}}-{{split}}.tsv"
    resources:
        mem_mb=2000,
        runtime=30,
    threads: 1
    conda:
        "../envs/isoflat.yaml"
    script:
        "../scripts/synthesize.py"


rule split_samples:
    """A user's samples store, checked, split into training and test samples."""
    input:
        store=lambda w: config_entry("datasets", w.dataset).samples_store,
        code=code("split_samples"),
    output:
        train=directory(f"{RESULTS}/samples/{{dataset}}/train.zarr"),
        test=directory(f"{RESULTS}/samples/{{dataset}}/test.zarr"),
    params:
        dataset=lambda w: to_params(EXPERIMENT.datasets[w.dataset]),
        seed=EXPERIMENT.seed,
        # Reruns the split when the user edits the store in place.
        fingerprint=lambda w: store_params(config_entry("datasets", w.dataset).samples_store),
    log:
        f"{RESULTS}/logs/split_samples/{{dataset}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/split_samples/{{dataset}}.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    threads: 1
    conda:
        "../envs/isoflat.yaml"
    script:
        "../scripts/split_samples.py"


rule sample_pairs:
    """Training pairs (x, y, midpoint z, distance d) at scale δ, with their images."""
    input:
        code=lambda w: code("sample_pairs", [w.dataset]),
        # The data geometry estimates the pairs from the dataset's training samples.
        samples=lambda w: [samples_path(w.dataset)] if sampling_run(w).pairs.geometry == "data" else [],
    output:
        store=directory(f"{RESULTS}/pairs/{{dataset}}/{{sampling}}.zarr"),
    params:
        dataset=lambda w: to_params(EXPERIMENT.datasets[w.dataset]),
        pairs=lambda w: to_params(sampling_run(w).pairs),
        seed=lambda w: sampling_run(w).seed,
    log:
        f"{RESULTS}/logs/sample_pairs/{{dataset}}-{{sampling}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/sample_pairs/{{dataset}}-{{sampling}}.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    # The image-metric oracle runs TensorFlow on all the threads it gets.
    threads: lambda w: RESOURCES.threads if sampling_run(w).pairs.geometry == "image" else 1
    conda:
        "../envs/isoflat.yaml"
    script:
        "../scripts/sample_pairs.py"
