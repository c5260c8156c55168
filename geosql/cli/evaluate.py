"""`geosql eval`: score geoparsing methods (caption countries, toponyms, the famous probe)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from geosql.cli.context import open_warehouse, parse_settings
from geosql.registry import registry


@contextmanager
def _warehouse(ctx: click.Context) -> Iterator[Any]:
    """The user's warehouse, with the bundled reference data loaded when it has none."""
    from geosql import refdata

    with open_warehouse(ctx) as con:
        for _ in refdata.load_defaults(con, only_missing=True):
            pass
        yield con


def _print_countries(res: dict[str, Any], title: str) -> None:
    from geosql.eval.calibration import reliability_lines

    click.echo(
        f"{title}: method {res['method']}, n={res['n']} "
        f"({res['n_located']} with a country, {res['n_no_place']} no place)"
        f" [dataset {res['dataset']}]"
    )
    click.echo(f"  accuracy            {res['accuracy']:.4f}")
    if res["located_accuracy"] is not None:
        click.echo(f"  located accuracy    {res['located_accuracy']:.4f}")
    if res["false_positive_rate"] is not None:
        click.echo(f"  false-positive rate {res['false_positive_rate']:.4f}")
    if res.get("distribution_distance") is not None:
        click.echo(
            f"  distribution distance {res['distribution_distance']:.4f} (total variation,"
            f" country shares; {res['n_predicted_located']} answered with a country,"
            f" gold {res['n_located']})"
        )
    if res.get("unknown_gold_labels"):
        click.echo(
            f"  skipped {res['unknown_gold_labels']} rows with unrecognised gold labels "
            f"(e.g. {', '.join(res['unknown_gold_examples'])})"
        )
    for line in reliability_lines(res["calibration"]):
        click.echo(line)
    click.echo("  per country (top 15 by support):")
    for r in res["per_country"][:15]:
        p = "-" if r["precision"] is None else f"{r['precision']:.2f}"
        rc = "-" if r["recall"] is None else f"{r['recall']:.2f}"
        click.echo(f"    {r['country']:<28} n={r['support']:<5} P={p:<5} R={rc}")
    click.echo("  most frequent confusions (gold -> predicted):")
    for c in res["confusions"]:
        click.echo(f"    {c['gold']} -> {c['predicted']}: {c['n']}")


def _print_probe(res: dict[str, Any]) -> None:
    click.echo(
        f"probe famous: {res['cities']} cities x {len(res['templates'])} templates = {res['n']}"
        f" captions, method {res['method']}"
    )
    click.echo(f"  accuracy            {res['accuracy']:.4f}")
    click.echo(f"  answered no place   {res['no_place_share']:.4f}")
    click.echo(f"  misses ({res['wrong']}, first {len(res['misses'])}):")
    for m in res["misses"]:
        click.echo(f"    {m['text']!r}: gold {m['gold']}, got {m['predicted'] or 'no place'}")


@click.group("eval", invoke_without_command=True)
@click.option(
    "--gold",
    "gold",
    type=click.Path(path_type=Path),
    help="CSV or Parquet with a text column and a gold country column ('no' = no place).",
)
@click.option("--text-col", default="text", show_default=True, help="Column with the caption.")
@click.option("--gold-col", default="gt", show_default=True, help="Column with the gold country.")
@click.option(
    "--method",
    default="offline",
    show_default=True,
    help="Geoparsing method to score (offline, gemini, hybrid...).",
)
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="Stage setting.")
@click.option(
    "--name", default=None, help="Evaluation dataset name: eval:NAME [default: the file's stem]."
)
@click.option(
    "--probe",
    type=click.Choice(["famous"]),
    default=None,
    help="Score a built-in probe instead of a file (famous: big unambiguous cities).",
)
@click.option("--misses", type=int, default=0, show_default=True, help="Print N wrong answers.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def eval_cmd(ctx, gold, text_col, gold_col, method, settings, name, probe, misses, as_json):
    """Score a geoparsing method: caption countries against --gold (accuracy, FP rate, P/R,
    confusions, calibration), or --probe famous; `eval toponyms` scores mentions.

    The file becomes the dataset eval:NAME of the warehouse, so LLM answers paid for are kept
    in its cache and a rerun costs nothing."""
    if ctx.invoked_subcommand is not None:
        return
    if (gold is None) == (probe is None):
        raise click.UsageError("give --gold FILE or --probe famous (one of them)")
    if misses < 0:
        raise click.BadParameter("must be >= 0", param_hint="--misses")
    cfg = parse_settings(settings)
    with _warehouse(ctx) as con:
        if probe:
            from geosql.eval.probe import probe_famous

            res = probe_famous(con, method, cfg, misses=misses or 50)
        else:
            from geosql.eval.countries import evaluate_con

            res = evaluate_con(con, gold, text_col, gold_col, method, cfg, name, misses=misses)
    if as_json:
        click.echo(json.dumps(res))
    elif probe:
        _print_probe(res)
    else:
        _print_countries(res, res["file"])
        for m in res["misses"]:
            click.echo(f"    miss: {m['text']!r}: gold {m['gold']}, got {m['predicted']}")


@eval_cmd.command("toponyms")
@click.option(
    "--docs",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV or Parquet with columns id,text (one document per row).",
)
@click.option(
    "--gold",
    required=True,
    type=click.Path(path_type=Path),
    help="CSV with id,start,end,lat,lon (0-based character offsets, end exclusive).",
)
@click.option("--method", default="offline", show_default=True, help="Geoparsing method.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="Stage setting.")
@click.option("--name", default=None, help="Dataset name: eval:NAME [default: docs file's stem].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_context
def toponyms_cmd(ctx, docs, gold, method, settings, name, as_json) -> None:
    """Score mentions against gold toponym spans: detection P/R/F1, Acc@161km, error km, AUC."""
    from geosql.eval.calibration import reliability_lines
    from geosql.eval.toponyms import evaluate_toponyms

    cfg = parse_settings(settings)
    with _warehouse(ctx) as con:
        r = evaluate_toponyms(con, docs, gold, method, cfg, name)
    if as_json:
        click.echo(json.dumps(r))
        return

    def f(v: Any, fmt: str = ".4f") -> str:
        return "-" if v is None else format(v, fmt)

    click.echo(
        f"{r['docs']}: method {r['method']}, {r['n_docs']} docs, {r['gold_toponyms']} gold"
        f" toponyms, {r['mentions']} mentions [dataset {r['dataset']}]"
    )
    click.echo(
        f"  detection   precision {f(r['precision'])}  recall {f(r['recall'])}  F1 {f(r['f1'])}"
    )
    click.echo(f"  Acc@161km   {f(r['acc_161km'])} of all gold, {f(r['acc_161km_found'])} of found")
    click.echo(f"  found without coordinates {r['found_without_coordinates']}")
    click.echo(f"  country right, of found   {f(r['country_accuracy_found'])}")
    click.echo(
        f"  error km    median {f(r['median_error_km'], ',.1f')}  mean {f(r['mean_error_km'], ',.1f')}"
        f"  AUC {f(r['auc'])} (lower is better)"
    )
    click.echo(f"  by {r['mention_score']}:  threshold  mentions  precision  recall")
    for a in r["at_threshold"]:
        click.echo(
            f"                     {a['threshold']:<9}  {a['mentions']:<8}  "
            f"{f(a['precision'])}     {f(a['recall'])}"
        )
    for line in reliability_lines(r["mention_calibration"], r["mention_score"]):
        click.echo(line)


registry.command(eval_cmd)
