"""Fit the taste engine's calibration on the TUNING part of the real development set and
write taste/data/calibration.json.

    .venv/bin/python bench/realfit.py [--dry-run]

What is fitted (see taste/calibration.py): the medium classifier (multinomial logistic
regression, sklearn), the within-medium and within-grade whitenings, and then the block
weights and the two cut thresholds, chosen by a small grid on the tuning boards of
bench/realboards.py. For that choice the tuning media images get out-of-fold medium
probabilities (5-fold), so the classifier is never scored on images it was fitted on.
The validation part is not read here at all; `bench/analyze.py --real` reports it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench.realboards as rb
import bench.realdata as rd
from taste.calibration import (
    CALIBRATION_FILE,
    Calibration,
    classifier_columns,
    grade_columns,
    medium_columns,
    within_whitening,
)
from taste.clustering import leave_one_out_distances, prepare_features
from taste.encoders import DEFAULT_ENCODER_ID, MagentaDescriptorEncoder

SHRINKAGE = 0.3
CLASSIFIER_C = 0.3
GRID_WEIGHTS = {
    "medium": (0.0, 0.5, 1.0),
    "grade": (0.5, 1.0),
    "belief": (0.0, 0.5, 1.0, 2.0),
    "magenta": (0.0, 0.3),
}
GRID_CUTS = ((4.0, 1.2), (5.0, 1.2), (5.0, 1.6), (6.0, 1.6))
OUT = Path(__file__).resolve().parents[1] / "taste" / "data" / CALIBRATION_FILE


def _classifier(x: np.ndarray, y: np.ndarray):  # -> sklearn Pipeline
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=CLASSIFIER_C, max_iter=5000, class_weight="balanced"),
    )
    return model.fit(x, y)


def fit(data: rb.RealSet) -> tuple[dict, dict]:
    tune = data.split == "tune"
    media = tune & (data.kind == "medium")
    grades = tune & (data.kind == "grade")
    x = classifier_columns(data.vectors)
    model = _classifier(x[media], data.label[media])
    scaler, lr = model[0], model[1]
    base = {
        "encoder_id": DEFAULT_ENCODER_ID,
        "media": [str(c) for c in lr.classes_],
        "medium_classifier": {
            "mean": scaler.mean_.tolist(),
            "scale": scaler.scale_.tolist(),
            "coef": lr.coef_.tolist(),
            "intercept": lr.intercept_.tolist(),
        },
        "medium_whiten": within_whitening(
            medium_columns(data.vectors[media]), data.label[media], SHRINKAGE
        ).tolist(),
        "grade_whiten": within_whitening(
            grade_columns(data.vectors[grades]), data.label[grades], SHRINKAGE
        ).tolist(),
    }

    # Out-of-fold beliefs for the tuning media images, so the grid below does not
    # reward a classifier for remembering them: swap them into a copy of the data.
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    media_idx = np.flatnonzero(media)
    held = np.zeros((len(media_idx), len(base["media"])))
    for train, test in folds.split(x[media_idx], data.label[media_idx]):
        m = _classifier(x[media_idx[train]], data.label[media_idx[train]])
        held[test] = m.predict_proba(x[media_idx[test]])
    boards = rb.boards(data, "tune")
    vectors32 = data.vectors.astype(np.float32)
    lookup = {vectors32[i].tobytes(): held[j] for j, i in enumerate(media_idx)}

    results = []
    for wm, wg, wb, wmag in itertools.product(*GRID_WEIGHTS.values()):
        for height, sep in GRID_CUTS:
            cal = _OutOfFold.wrap(
                Calibration.from_dict(
                    {
                        **base,
                        "weights": _w(wm, wg, wb, wmag),
                        "split_height": height,
                        "min_separation": sep,
                    }
                ),
                lookup,
            )
            scores = rb.score_boards(data, boards, cal)
            mean = float(np.mean([np.mean([s[0] for s in v]) for v in scores.values()]))
            results.append((mean, (wm, wg, wb, wmag, height, sep), scores))
    results.sort(key=lambda r: -r[0])
    best_mean, (wm, wg, wb, wmag, height, sep), _ = results[0]
    chosen = {**base, "weights": _w(wm, wg, wb, wmag), "split_height": height,
              "min_separation": sep}  # fmt: skip
    # The single-image outlier test: the 99.5th percentile of each image's distance to
    # the others' mean on the tuning one-look boards (so ~1 in 200 ordinary images of a
    # coherent board would be flagged).
    cal = _OutOfFold.wrap(Calibration.from_dict(chosen), lookup)
    blocks = MagentaDescriptorEncoder.blocks
    loo = [
        leave_one_out_distances(prepare_features(data.embeddings[b.idx], blocks, cal)[0])
        for b in boards
        if b.case in ("1-medium", "1-grade")
    ]
    chosen["outlier_distance"] = round(float(np.percentile(np.concatenate(loo), 99.5)), 4)
    final = _OutOfFold.wrap(Calibration.from_dict(chosen), lookup)
    best_scores = rb.score_boards(data, boards, final)
    return chosen, {"mean": best_mean, "scores": best_scores, "top": results[:5]}


def _w(medium: float, grade: float, belief: float, magenta: float) -> dict[str, float]:
    return {"medium": medium, "grade": grade, "belief": belief, "magenta": magenta}


@dataclass(frozen=True)
class _OutOfFold(Calibration):
    """A candidate calibration whose medium beliefs for the tuning media images are the
    out-of-fold ones (looked up by exact descriptor vector)."""

    lookup: dict = field(default_factory=dict)

    @classmethod
    def wrap(cls, cal: Calibration, lookup: dict) -> _OutOfFold:
        return cls(**{f.name: getattr(cal, f.name) for f in fields(Calibration)}, lookup=lookup)

    def medium_probabilities(self, vectors: np.ndarray) -> np.ndarray:
        p = super().medium_probabilities(vectors)
        v = np.asarray(vectors, dtype=np.float32).reshape(len(p), -1)
        for i, row in enumerate(v):
            hit = self.lookup.get(row.tobytes())
            if hit is not None:
                p[i] = hit
        return p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="print, don't write")
    args = parser.parse_args()
    data = rb.load()
    chosen, report = fit(data)
    sources = {it.source for it in rd.items(split="tune")}
    chosen["provenance"] = {
        "fitted": date.today().isoformat(),
        "command": "bench/realfit.py",
        "split": "tune",
        "sources": sorted(sources),
        "images": int((data.split == "tune").sum()),
        "classifier": f"sklearn LogisticRegression(C={CLASSIFIER_C}, balanced), StandardScaler",
        "shrinkage": SHRINKAGE,
        "tune_mean_score": round(report["mean"], 4),
    }
    print("chosen weights", chosen["weights"], "cut", chosen["split_height"],
          chosen["min_separation"], "outlier distance", chosen["outlier_distance"])  # fmt: skip
    for case, v in report["scores"].items():
        vals = np.array([s[0] for s in v])
        print(f"  tune {case:9s} mean {vals.mean():.2f}  >=0.9 {np.mean(vals >= 0.9):.0%}")
    for mean, params, _ in report["top"]:
        print(f"  candidate {params}: {mean:.3f}")
    if not args.dry_run:
        OUT.write_text(json.dumps(chosen, indent=1) + "\n")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
