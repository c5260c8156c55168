"""Reliability curve and expected calibration error (ECE) of a confidence score."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def reliability(
    confidence: Sequence[float | None], correct: Sequence[bool], bins: int = 10
) -> dict[str, Any]:
    """Equal-width bins over [0, 1]: per bin n, mean confidence and accuracy; ECE is the
    n-weighted mean of |accuracy - confidence| over the bins (Guo et al. 2017). Rows with no
    confidence are left out (counted in `n_without_confidence`)."""
    if bins < 1:
        raise ValueError("bins must be >= 1")
    acc: list[list[float]] = [[0, 0.0, 0.0] for _ in range(bins)]  # n, sum conf, sum correct
    missing = 0
    for c, ok in zip(confidence, correct, strict=True):
        if c is None:
            missing += 1
            continue
        c = min(max(float(c), 0.0), 1.0)
        b = min(int(c * bins), bins - 1)
        acc[b][0] += 1
        acc[b][1] += c
        acc[b][2] += bool(ok)
    n = sum(a[0] for a in acc)
    out_bins = []
    ece = 0.0
    for i, (k, sc, sok) in enumerate(acc):
        if not k:
            continue
        conf, accuracy = sc / k, sok / k
        ece += k / n * abs(accuracy - conf)
        out_bins.append(
            {
                "lo": round(i / bins, 4),
                "hi": round((i + 1) / bins, 4),
                "n": int(k),
                "confidence": round(conf, 4),
                "accuracy": round(accuracy, 4),
            }
        )
    return {
        "n": int(n),
        "n_without_confidence": missing,
        "ece": round(ece, 4) if n else None,
        "bins": out_bins,
    }


def reliability_lines(rel: dict[str, Any], label: str = "confidence") -> list[str]:
    """The reliability table as printed lines."""
    if not rel["n"]:
        return [f"  calibration of the {label}: no rows with a {label}"]
    lines = [f"  calibration of the {label} (n={rel['n']}): ECE {rel['ece']:.4f}"]
    lines.append("    bin          n       mean conf  accuracy")
    for b in rel["bins"]:
        lines.append(
            f"    [{b['lo']:.1f}, {b['hi']:.1f})  {b['n']:<7}  {b['confidence']:.3f}      "
            f"{b['accuracy']:.3f}"
        )
    return lines
