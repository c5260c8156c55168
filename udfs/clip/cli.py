"""Commands of the vision family: `geosql images ...`, `geosql svm ...`, `geosql relabel ...`."""

from __future__ import annotations

from pathlib import Path

import click

from geosql.cli.context import open_warehouse
from geosql.cli.context import table as _table
from geosql.db import ident, literal
from geosql.errors import GeosqlError
from geosql.registry import registry
from udfs.clip.images import link_images
from udfs.clip.relabel import (
    build_subset,
    load_labels,
    load_locations,
    reverse_geocode,
)
from udfs.clip.svm import (
    SEED_EMBEDDING_KEY,
    entity_name,
    guess_features,
    import_joblib,
    pick_embedding_key,
    save_model,
    train_svm,
    training_data,
)


@registry.command
@click.group("images")
def images_cmd() -> None:
    """Images of captions: link downloaded shards, GPS locations, reverse geocoding."""


@images_cmd.command("link")
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--by",
    type=click.Choice(["url", "key"]),
    default="url",
    show_default=True,
    help="Match captions.url to the sidecar JSON url, or the caption's source id to the key.",
)
@click.option("--dataset", default=None, help="Only captions of this dataset.")
@click.pass_context
def link_cmd(ctx: click.Context, root: Path, by: str, dataset: str | None) -> None:
    """Point captions at images already downloaded under ROOT (img2dataset or WebDataset)."""

    with open_warehouse(ctx) as con:
        n = link_images(con, root, by, dataset)
    click.echo(f"linked {n} captions to images under {root}")
    click.echo(f"embed them with: geosql run clip-embed --set image_root={root.resolve()}")


@images_cmd.command("locations")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def locations_cmd(ctx: click.Context, file: Path) -> None:
    """Load image GPS from FILE (caption_id, lat, lon[, country_code]) into image_locations."""

    with open_warehouse(ctx) as con:
        n = load_locations(con, file)
    click.echo(f"loaded {n} image locations from {file}")


@images_cmd.command("geocode")
@click.option(
    "--max-km",
    type=float,
    default=500.0,
    show_default=True,
    help="Leave images farther than this from any place without a country.",
)
@click.pass_context
def geocode_cmd(ctx: click.Context, max_km: float) -> None:
    """Reverse-geocode images with GPS but no country to the nearest GeoNames place."""

    with open_warehouse(ctx) as con:
        n = reverse_geocode(con, max_km=max_km)
        left = con.execute(
            "SELECT count(*) FROM image_locations WHERE country_code IS NULL AND lat IS NOT NULL"
        ).fetchone()[0]
    click.echo(f"{n} images got a country from the nearest place; {left} with GPS still have none")


# --------------------------------------------------------------------------- svm


@registry.command
@click.group("svm")
def svm_cmd() -> None:
    """Entity-presence classifiers (SVMs on CLIP image embeddings)."""


@svm_cmd.command("train")
@click.option("--entity", required=True, help="Entity the classifier detects (e.g. house).")
@click.option(
    "--labels",
    "labels_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV with caption_id or image_path, and label (1 shows the entity, 0 not).",
)
@click.option(
    "--embedding-model", default=None, help="Embedding model key (default: the only one)."
)
@click.option("--name", default="trained", show_default=True, help="Model name: id is ENTITY:NAME.")
@click.option(
    "--kernel",
    type=click.Choice(["rbf", "linear"]),
    default="rbf",
    show_default=True,
    help="SVM kernel.",
)
@click.option("-C", "c", type=float, default=1.0, show_default=True, help="SVM regularisation.")
@click.option("--folds", type=int, default=5, show_default=True, help="Cross-validation folds.")
@click.pass_context
def train_cmd(ctx, entity, labels_file, embedding_model, name, kernel, c, folds) -> None:
    """Train an SVM for ENTITY on stored image embeddings; print cross-validated metrics."""

    entity, name = entity_name(entity), ident(name)
    with open_warehouse(ctx) as con:
        key = pick_embedding_key(con, embedding_model)
        _, x, y = training_data(con, labels_file, key)
        params, metrics = train_svm(x, y, c=c, kernel=kernel, folds=folds)
        model_id = save_model(
            con, entity, name, params, key, f"trained:{labels_file}", metrics, "unit"
        )
    click.echo(
        f"{model_id}: {metrics['n_train']} images ({metrics['n_positive']} positive), "
        f"{metrics['cv_folds']}-fold CV accuracy {metrics['cv_accuracy']:.3f} "
        f"precision {metrics['cv_precision']:.3f} recall {metrics['cv_recall']:.3f} "
        f"f1 {metrics['cv_f1']:.3f}"
    )
    click.echo(f"predict with: geosql run entity-svm --set model={model_id}")


@svm_cmd.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--entity", required=True, help="Entity the classifier detects.")
@click.option("--name", default="seed", show_default=True, help="Model name: id is ENTITY:NAME.")
@click.option(
    "--embedding-model",
    default=SEED_EMBEDDING_KEY,
    show_default=True,
    help="Embedding model key the classifier expects.",
)
@click.option("--trust", is_flag=True, help="I trust this file: unpickling it runs its code.")
@click.pass_context
def import_cmd(ctx, file, entity, name, embedding_model, trust) -> None:
    """Import a pickled scikit-learn SVC (the paper's svm_classifier_<entity>_1.joblib).

    A .joblib file is a pickle: loading it executes whatever code it contains, so it is only
    read with --trust. It is converted to plain parameters; later runs never unpickle.
    """
    if not trust:
        raise GeosqlError(
            f"{file} is a pickle: loading it runs code from the file. Re-run with --trust only "
            "if you trust where it comes from; it is converted to a safe parameter file on import."
        )

    entity, name = entity_name(entity), ident(name)
    params = import_joblib(file)
    features = guess_features(params)
    with open_warehouse(ctx) as con:
        model_id = save_model(
            con, entity, name, params, embedding_model, f"imported:{file}", None, features
        )
    click.echo(
        f"{model_id}: SVC {params['kernel']} with {len(params['support_vectors'])} support vectors "
        f"on {params['support_vectors'].shape[1]}-d {embedding_model} features ({features})"
    )


@svm_cmd.command("list")
@click.pass_context
def list_cmd(ctx) -> None:
    """The stored classifiers with their cross-validated metrics."""

    with open_warehouse(ctx, read_only=True) as con:
        df = con.sql(
            "SELECT model_id, embedding_model_key, features, kernel, n_train, n_positive, cv_folds,"
            " round(cv_accuracy, 3) AS acc, round(cv_precision, 3) AS prec,"
            " round(cv_recall, 3) AS rec, round(cv_f1, 3) AS f1, source FROM svm_models"
            " ORDER BY model_id"
        ).pl()
    click.echo(_table(df))


@svm_cmd.command("predict")
@click.option("--entity", default=None, help="Only this entity's models (default: all).")
@click.option("--all-captions", is_flag=True, help="Also captions not tagged with the entity.")
@click.pass_context
def predict_cmd(ctx, entity, all_captions) -> None:
    """Run `entity-svm` for every stored classifier (or one entity's)."""
    from geosql.runner import run_stage

    with open_warehouse(ctx) as con:
        where = "" if entity is None else f" WHERE entity = {literal(entity_name(entity))}"
        ids = [
            r[0]
            for r in con.execute(f"SELECT model_id FROM svm_models{where} ORDER BY 1").fetchall()
        ]
        if not ids:
            raise GeosqlError("no SVM models: use `geosql svm train` or `geosql svm import`")
        for model_id in ids:
            cfg = {"model": model_id, "only_entity_captions": not all_captions}
            click.echo(run_stage(con, "entity-svm", config=cfg).line())


# --------------------------------------------------------------------------- relabel


@registry.command
@click.group("relabel")
def relabel_cmd() -> None:
    """CLIP-GeoYFCC relabelling: label vocabulary and balanced subsets."""


@relabel_cmd.command("labels")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--template",
    default="a photo of a {}.",
    show_default=True,
    help="Prompt for rows without a prompt column; {} is the label name.",
)
@click.option("--append", is_flag=True, help="Add to the vocabulary instead of replacing it.")
@click.pass_context
def labels_cmd(ctx: click.Context, file: Path, template: str, append: bool) -> None:
    """Load the label vocabulary from a CSV (name[, label_id][, prompt])."""

    with open_warehouse(ctx) as con:
        n = load_labels(con, file, template, replace=not append)
    click.echo(f"labels: {n} in the vocabulary")


@relabel_cmd.command("subset")
@click.option(
    "--top", type=int, default=1_000_000, show_default=True, help="Keep the N most similar images."
)
@click.option(
    "--min-domain-share",
    type=float,
    default=0.04,
    show_default=True,
    help="Drop continents with a smaller share of the top N.",
)
@click.option(
    "--min-class",
    type=int,
    default=450,
    show_default=True,
    help="Keep classes with at least this many images (see --class-rule).",
)
@click.option(
    "--class-rule",
    type=click.Choice(["each-domain", "total"]),
    default="each-domain",
    show_default=True,
    help="--min-class in every kept domain, or in total.",
)
@click.option(
    "--cap", type=int, default=2000, show_default=True, help="At most M images per class."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the capped draw.")
@click.option(
    "--model-key", default=None, help="Embedding model of the labels (default: the only one)."
)
@click.option("--table", default="relabel_subset", show_default=True, help="Table to (re)create.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the subset to this Parquet file.",
)
@click.option(
    "--no-geocode", is_flag=True, help="Do not reverse-geocode images without a country first."
)
@click.pass_context
def subset_cmd(
    ctx, top, min_domain_share, min_class, class_rule, cap, seed, model_key, table, out, no_geocode
) -> None:
    """Build a domain-balanced subset of the relabelled images (CLIP-GeoYFCC recipe)."""

    with open_warehouse(ctx) as con:
        if not no_geocode:
            n = reverse_geocode(con)
            if n:
                click.echo(f"reverse geocoded {n} images")
        s = build_subset(
            con,
            key=model_key,
            top=top,
            min_domain_share=min_domain_share,
            min_class=min_class,
            cap=cap,
            seed=seed,
            per_domain_min=class_rule == "each-domain",
            table=table,
            out=out,
        )
    doms = ", ".join(f"{d} {n}" for d, n in s["domains"].items()) or "none"
    click.echo(f"{table}: {s['rows']} images, {s['classes']} classes, domains: {doms}")
    if out is not None:
        click.echo(f"wrote {out}")
