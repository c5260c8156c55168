"""Entity-presence classifiers: does the caption's image show its entity? (stage `entity-svm`).

The geoprofiling paper keeps a caption for an entity only when an SVM on the CLIP ViT-B/32 image
embedding says the image shows it. `geosql svm train` fits one on labelled images with
scikit-learn; `geosql svm import` converts the paper's published pickles. Every model is stored as
plain parameters (support vectors, dual coefficients, intercept, kernel settings) in an `.npz`
file read with `allow_pickle=False`, with a JSON sidecar and a row in `svm_models`: loading one
never runs code, and predicting needs only NumPy.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from geosql.errors import GeosqlError, require
from geosql.paths import models_dir
from geosql.registry import BatchResult, Stage, registry

SEED_EMBEDDING_KEY = "ViT-B-32/openai"  # what the paper's classifiers were trained on


# --------------------------------------------------------------------------- parameters


def svc_params(svc: Any) -> dict[str, Any]:
    """Plain parameters of a fitted binary scikit-learn SVC (what prediction needs)."""
    classes = np.asarray(svc.classes_)
    if len(classes) != 2:
        raise GeosqlError(f"expected a binary classifier, got classes {classes.tolist()}")
    if svc.kernel not in ("rbf", "linear", "poly", "sigmoid"):
        raise GeosqlError(f"unsupported SVC kernel {svc.kernel!r}")
    return {
        "support_vectors": np.asarray(svc.support_vectors_, dtype=np.float64),
        "dual_coef": np.asarray(svc.dual_coef_, dtype=np.float64).reshape(-1),
        "intercept": np.asarray(svc.intercept_, dtype=np.float64).reshape(-1)[:1],
        "classes": np.asarray([str(c) for c in classes]),
        "kernel": np.asarray(svc.kernel),
        "gamma": np.asarray(float(svc._gamma)),
        "coef0": np.asarray(float(svc.coef0)),
        "degree": np.asarray(int(svc.degree)),
    }


def decision_function(params: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """SVC decision values for rows of `x` (positive -> the second class), NumPy only."""
    sv = params["support_vectors"]
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != sv.shape[1]:
        raise GeosqlError(f"features have shape {x.shape}; the model expects {sv.shape[1]} columns")
    kernel, gamma = str(params["kernel"]), float(params["gamma"])
    dot = x @ sv.T
    if kernel == "rbf":
        sq = (x * x).sum(1)[:, None] + (sv * sv).sum(1)[None, :] - 2 * dot
        k = np.exp(-gamma * np.maximum(sq, 0.0))
    elif kernel == "linear":
        k = dot
    elif kernel == "poly":
        k = (gamma * dot + float(params["coef0"])) ** int(params["degree"])
    else:
        k = np.tanh(gamma * dot + float(params["coef0"]))
    return k @ params["dual_coef"] + float(params["intercept"][0])


def _positive_is_second(classes: np.ndarray) -> None:
    if [str(c).lower() for c in classes] not in (["0", "1"], ["false", "true"]):
        raise GeosqlError(f"classes must be 0/1, got {list(classes)}")


def save_model(
    con: Any,
    entity: str,
    name: str,
    params: dict[str, Any],
    embedding_key: str,
    source: str,
    metrics: dict[str, Any] | None = None,
    features: str = "unit",
) -> str:
    """Write the parameter file + JSON sidecar and record the model; returns its model_id.

    features: 'unit' when the model takes the stored L2-normalised embeddings, 'raw' when it
    takes the features before normalising (embedding * norm), like the paper's classifiers.
    """
    _positive_is_second(params["classes"])
    if features not in ("unit", "raw"):
        raise GeosqlError("features must be unit or raw")
    model_id = f"{entity}:{name}"
    folder = models_dir(warehouse_path(con)) / "svm"
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"{entity.replace(' ', '_')}__{name}.npz"
    np.savez(file, **params)
    metrics = metrics or {}
    meta = {
        "model_id": model_id,
        "entity": entity,
        "embedding_model_key": embedding_key,
        "kernel": str(params["kernel"]),
        "n_features": int(params["support_vectors"].shape[1]),
        "features": features,
        "source": source,
        **metrics,
    }
    file.with_suffix(".json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    con.execute("DELETE FROM svm_models WHERE model_id = ?", [model_id])
    con.execute(
        "INSERT INTO svm_models BY NAME SELECT ? AS model_id, ? AS entity,"
        " ? AS embedding_model_key, ? AS kernel, ? AS n_features, ? AS features, ? AS n_train,"
        " ? AS n_positive,"
        " ? AS cv_folds, ? AS cv_accuracy, ? AS cv_precision, ? AS cv_recall, ? AS cv_f1,"
        " ? AS file, ? AS source, now() AS created",
        [
            model_id,
            entity,
            embedding_key,
            meta["kernel"],
            meta["n_features"],
            features,
            metrics.get("n_train"),
            metrics.get("n_positive"),
            metrics.get("cv_folds"),
            metrics.get("cv_accuracy"),
            metrics.get("cv_precision"),
            metrics.get("cv_recall"),
            metrics.get("cv_f1"),
            str(file),
            source,
        ],
    )
    return model_id


def load_params(file: str | Path) -> dict[str, Any]:
    """Read a parameter file without unpickling anything."""
    with np.load(file, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def warehouse_path(con: Any) -> Path:
    """The file behind a connection (models live beside it)."""
    row = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    if not row or not row[0]:
        raise GeosqlError("SVM models are kept beside the warehouse file; use a file, not :memory:")
    return Path(row[0])


# --------------------------------------------------------------------------- training


def entity_name(entity: str) -> str:
    """The form caption_entities uses: lower case, single spaces ('living_room' -> 'living room')."""
    name = re.sub(r"[\s_]+", " ", entity.strip().lower())
    if not re.fullmatch(r"[^\W_][\w' -]*", name):
        raise GeosqlError(f"not a usable entity name: {entity!r}")
    return name


def pick_embedding_key(con: Any, key: str | None) -> str:
    """The given key, or the only image model key in `embeddings`."""
    keys = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT model_key FROM embeddings WHERE kind = 'image' ORDER BY 1"
        ).fetchall()
    ]
    if key:
        if key not in keys:
            raise GeosqlError(
                f"no image embeddings for {key!r} (have: {', '.join(keys) or 'none'})"
            )
        return key
    if len(keys) != 1:
        raise GeosqlError(
            f"choose --embedding-model among: {', '.join(keys)}"
            if keys
            else "no image embeddings yet: run `geosql run clip-embed` first"
        )
    return keys[0]


def training_data(
    con: Any, labels_file: Path, key: str
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Join a labels CSV (caption_id or image_path, label 0/1) with stored image embeddings."""
    cols = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM (DESCRIBE SELECT * FROM read_csv(?, header = true))",
            [str(labels_file)],
        ).fetchall()
    ]
    if "label" not in cols:
        raise GeosqlError(f"{labels_file}: needs a 'label' column (0/1); has {cols}")
    if "caption_id" in cols:
        join = "l.caption_id::VARCHAR = c.caption_id"
    elif "image_path" in cols:
        join = "l.image_path::VARCHAR = c.image_path"
    else:
        raise GeosqlError(f"{labels_file}: needs a caption_id or image_path column; has {cols}")
    rows = con.execute(
        f"""SELECT c.caption_id, CAST(l.label AS INTEGER) AS label, e.embedding
            FROM read_csv(?, header = true) l
            JOIN captions c ON {join}
            JOIN embeddings e ON e.item_id = c.caption_id AND e.kind = 'image' AND e.model_key = ?
            ORDER BY c.caption_id""",
        [str(labels_file), key],
    ).fetchall()
    if not rows:
        raise GeosqlError(f"no labelled row of {labels_file} has an image embedding for {key}")
    ids = [r[0] for r in rows]
    y = np.array([r[1] for r in rows], dtype=np.int64)
    if set(np.unique(y)) - {0, 1}:
        raise GeosqlError("labels must be 0 or 1")
    x = np.array([r[2] for r in rows], dtype=np.float64)
    return ids, x, y


def train_svm(
    x: np.ndarray,
    y: np.ndarray,
    *,
    c: float = 1.0,
    kernel: str = "rbf",
    folds: int = 5,
    seed: int = 0,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit an SVC and cross-validate it; returns (plain parameters, metrics)."""
    svm = require("sklearn.svm", "vision")
    ms = require("sklearn.model_selection", "vision")
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    if min(n_pos, n_neg) < 2:
        raise GeosqlError(f"need at least 2 positive and 2 negative images (have {n_pos}/{n_neg})")
    folds = max(2, min(folds, n_pos, n_neg))
    model = svm.SVC(kernel=kernel, C=c, gamma="scale")
    cv = ms.StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # precision of a fold with no positive prediction
        scores = ms.cross_validate(
            model, x, y, cv=cv, scoring=("accuracy", "precision", "recall", "f1")
        )
    model.fit(x, y)
    metrics = {
        "n_train": len(y),
        "n_positive": n_pos,
        "cv_folds": folds,
        **{
            f"cv_{m}": float(np.mean(scores[f"test_{m}"]))
            for m in ("accuracy", "precision", "recall", "f1")
        },
    }
    return svc_params(model), metrics


def import_joblib(path: Path) -> dict[str, Any]:
    """Unpickle a scikit-learn SVC (runs the pickle's code: trusted files only) into parameters."""
    joblib = require("joblib", "vision")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # InconsistentVersionWarning (pickled with sklearn 1.3)
        obj = joblib.load(path)
    if type(obj).__name__ != "SVC" or not hasattr(obj, "support_vectors_"):
        raise GeosqlError(f"{path} holds a {type(obj).__name__}, not a fitted scikit-learn SVC")
    return svc_params(obj)


def guess_features(params: dict[str, Any]) -> str:
    """'unit' when the support vectors are unit length (L2-normalised inputs), else 'raw'."""
    norms = np.linalg.norm(params["support_vectors"], axis=1)
    return "unit" if abs(float(np.median(norms)) - 1.0) < 0.05 else "raw"


# --------------------------------------------------------------------------- the stage


def _check(con: Any, config: dict) -> None:
    """A model must be chosen, and stored: say which ones there are."""
    _model_row(con, config)


def _prepare(con: Any, config: dict) -> dict[str, Any]:
    row = _model_row(con, config)
    return {"entity": row[0], "params": load_params(row[1]), "raw": row[2] == "raw"}


def _model_row(con: Any, config: dict) -> tuple:
    known = [r[0] for r in con.execute("SELECT model_id FROM svm_models ORDER BY 1").fetchall()]
    if not config["model"]:
        choice = ", ".join(known) if known else "none stored: train one with `geosql svm train`"
        raise GeosqlError(f"entity-svm needs --set model=ID (stored models: {choice})")
    row = con.execute(
        "SELECT entity, file, features FROM svm_models WHERE model_id = ?", [config["model"]]
    ).fetchone()
    if row is None:
        raise GeosqlError(
            f"no SVM model {config['model']!r} (stored: {', '.join(known) or 'none'});"
            " see `geosql svm list`"
        )
    return row


def _process(state: dict[str, Any], batch: pa.Table, config: dict) -> BatchResult:
    ids = batch["caption_id"].to_pylist()
    x = np.array(batch["embedding"].to_pylist(), dtype=np.float64)
    errors: list[tuple[str, str, str]] = []
    keep = np.ones(len(ids), dtype=bool)
    if state["raw"]:  # the model expects features before L2 normalisation
        norm = np.array(batch["norm"].to_pylist(), dtype=np.float64)
        keep = ~np.isnan(norm)
        errors = [(ids[i], "NoNorm", "embedding has no stored norm") for i in np.flatnonzero(~keep)]
        x = x[keep] * norm[keep, None]
    scores = decision_function(state["params"], x)
    n = len(scores)
    rows = pa.table(
        {
            "caption_id": pa.array([i for i, k in zip(ids, keep, strict=True) if k], pa.string()),
            "entity": pa.array([state["entity"]] * n, pa.string()),
            "model": pa.array([config["model"]] * n, pa.string()),
            "present": pa.array(scores > float(config["threshold"])),
            "score": pa.array(scores, pa.float64()),
        }
    )
    return BatchResult({"entity_presence": rows}, errors)


registry.stage(
    Stage(
        name="entity-svm",
        description="does the image show the caption's entity? SVM on CLIP image embeddings",
        inputs=(
            "SELECT e.item_id AS caption_id, e.embedding, e.norm FROM embeddings e"
            " JOIN svm_models m ON m.model_id = {model} AND e.model_key = m.embedding_model_key"
            " WHERE e.kind = 'image' AND (NOT {only_entity_captions} OR e.item_id IN"
            " (SELECT caption_id FROM caption_entities ce WHERE ce.entity = m.entity))"
        ),
        outputs=("entity_presence",),
        unique={"entity_presence": ("caption_id", "model")},
        check=_check,
        prepare=_prepare,
        process=_process,
        scope="model",
        depends_on=("clip-embed",),
        defaults={"model": "", "threshold": 0.0, "only_entity_captions": True},
        batch_size=4096,
        extra="vision",
    )
)
