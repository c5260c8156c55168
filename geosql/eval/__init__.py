"""Evaluation of the geoparsers, run inside the user's warehouse in datasets `eval:<name>`.

- `evaluate_con` / `evaluate`: caption countries against gold labels (accuracy, FP rate,
  per-country P/R, confusions, reliability curve and ECE of the confidence);
- `evaluate_toponyms`: mentions against gold toponym spans (detection P/R/F1, Acc@161km,
  error km, AUC, P/R by score threshold);
- `probe_famous`: famous unambiguous cities in five caption templates.
"""

from geosql.eval.calibration import reliability
from geosql.eval.common import eval_dataset, run_method, stage_for_method
from geosql.eval.countries import evaluate, evaluate_con, load_gold, metrics, metrics_from_pairs
from geosql.eval.probe import famous_cities, probe_famous
from geosql.eval.toponyms import evaluate_toponyms, log_error_auc, toponym_metrics

__all__ = [
    "eval_dataset",
    "evaluate",
    "evaluate_con",
    "evaluate_toponyms",
    "famous_cities",
    "load_gold",
    "log_error_auc",
    "metrics",
    "metrics_from_pairs",
    "probe_famous",
    "reliability",
    "run_method",
    "stage_for_method",
    "toponym_metrics",
]
