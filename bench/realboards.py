"""Boards built from the real development set (bench/realdata), embedded by the app's
own encoder, shared by bench/realfit.py (fits on the tuning part) and bench/analyze.py
--real (reports both parts).

Cases, per split, with fixed seeds:

* ``2-medium``: every pair of media, 10 images of each, subjects varying (2 seeds);
* ``4-medium``: 6 random 4-media mixes of 6 images each;
* ``1-medium``: 12 images of one medium (2 per medium): the medium must be named;
* ``outlier``: 11 images of one medium and 1 of another: one sub-style, the odd image
  flagged as an outlier (scores 1 or 0);
* ``2-grade``: every pair of real LUTs (at most MAX_GRADE_PAIRS, a seeded sample)
  applied to the *same* 12 photographs, so that grouping by subject scores ~0;
* ``4-grade``: 8 random 4-LUT mixes on the same 8 photographs;
* ``1-grade``: one LUT on 12 photographs (2 per LUT): must stay one sub-style.

The report adds the black-and-white photographs of each split (no colour at all): what
the medium classifier calls each one, and how a board of all of them is named.

Embeddings are cached per encoder id and manifest under var/bench/ (delete to re-embed).
"""

from __future__ import annotations

import hashlib
import itertools
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bench.realdata as rd  # noqa: E402
from taste.calibration import MEDIUM_TERMS, Calibration  # noqa: E402
from taste.encoders import DEFAULT_ENCODER_ID, MagentaDescriptorEncoder  # noqa: E402

CACHE = ROOT / "var" / "bench"
MAX_GRADE_PAIRS = 120  # 2-grade boards per split (validation's 9 LUTs make 36: all of them)
PHOTO_SIDE = 768  # graded photographs are made at this size (a board's display copy)
MEDIUM_SIDE = 1024


@dataclass
class RealSet:
    kind: np.ndarray  # "medium" | "grade"
    label: np.ndarray  # medium name, LUT name, or "none" for the ungraded photo
    split: np.ndarray
    key: np.ndarray  # item id (for grades: the photograph's id)
    styles: np.ndarray  # (n, 100)
    vectors: np.ndarray  # (n, DESCRIPTOR_DIM)

    @property
    def embeddings(self) -> np.ndarray:
        return np.concatenate([self.styles, self.vectors], axis=1)


@dataclass
class Board:
    name: str
    case: str
    idx: np.ndarray
    truth: np.ndarray


def _images() -> Iterator[tuple[str, str, str, str, Image.Image]]:
    for split in ("tune", "validation"):
        for label, items in rd.media(split).items():
            for it in items:
                yield "medium", label, split, it.id, rd.open_image(it, max_side=MEDIUM_SIDE)
        photos = rd.photos(split)
        base = {
            p.id: np.asarray(rd.open_image(p, max_side=PHOTO_SIDE), np.float32) / 255.0
            for p in photos
        }
        for p in photos:
            yield "grade", "none", split, p.id, Image.fromarray(_u8(base[p.id]))
        for lut_item in rd.luts(split):
            lut = rd.read_lut(lut_item)
            for p in photos:
                graded = np.clip(rd.apply_lut(lut, base[p.id]), 0.0, 1.0)
                yield "grade", lut_item.label, split, p.id, Image.fromarray(_u8(graded))


def _u8(x: np.ndarray) -> np.ndarray:
    return (x * 255.0).round().astype(np.uint8)


def load(verbose: bool = True) -> RealSet:
    """Every real image embedded by the default encoder (cached)."""
    rd.require()
    manifest = hashlib.sha1(rd.MANIFEST.read_bytes()).hexdigest()[:10]
    path = CACHE / f"realset-{DEFAULT_ENCODER_ID}-{manifest}.npz"
    if path.exists():
        z = np.load(path)
        return RealSet(*(z[k] for k in ("kind", "label", "split", "key", "styles", "vectors")))
    encoder = MagentaDescriptorEncoder()
    meta, styles, vectors, batch = [], [], [], []
    started = time.perf_counter()

    def flush() -> None:
        s, d = encoder.embed_parts([b[-1] for b in batch])
        styles.append(s)
        vectors.extend(x.as_vector() for x in d)
        meta.extend(b[:4] for b in batch)
        batch.clear()

    for row in _images():
        batch.append(row)
        if len(batch) == 32:
            flush()
            if verbose:
                print(f"  embedded {len(meta)} real images", end="\r", flush=True)
    if batch:
        flush()
    if verbose:
        print(f"  embedded {len(meta)} real images in {time.perf_counter() - started:.0f} s")
    kind, label, split, key = (np.array(col) for col in zip(*meta, strict=True))
    out = RealSet(kind, label, split, key, np.concatenate(styles), np.stack(vectors))
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, kind=kind, label=label, split=split, key=key, styles=out.styles,
             vectors=out.vectors)  # fmt: skip
    return out


def boards(data: RealSet, split: str, seed: int = 0) -> list[Board]:
    """The cases of the module docstring on one split."""
    rng = np.random.default_rng(seed)
    out: list[Board] = []
    med = (data.kind == "medium") & (data.split == split)
    media = sorted(set(data.label[med]))
    idx_of = {m: np.flatnonzero(med & (data.label == m)) for m in media}

    def pick(m: str, n: int) -> np.ndarray:
        return rng.choice(idx_of[m], min(n, len(idx_of[m])), replace=False)

    for a, b in itertools.combinations(media, 2):
        for _ in range(2):
            ia, ib = pick(a, 10), pick(b, 10)
            truth = np.r_[np.zeros(len(ia), int), np.ones(len(ib), int)]
            out.append(Board(f"{a}+{b}", "2-medium", np.r_[ia, ib], truth))
    for _ in range(6):
        four = rng.choice(media, 4, replace=False)
        parts = [pick(m, 6) for m in four]
        truth = np.concatenate([[i] * len(p) for i, p in enumerate(parts)])
        out.append(Board("+".join(four), "4-medium", np.concatenate(parts), truth))
    for m in media:
        for _ in range(2):
            ia = pick(m, 12)
            out.append(Board(m, "1-medium", ia, np.zeros(len(ia), int)))
    for m in media:  # 11 of one medium and 1 of another: the odd one is an outlier
        other = rng.choice([x for x in media if x != m])
        idx = np.r_[pick(m, 11), pick(other, 1)]
        out.append(Board(f"{m}+1 {other}", "outlier", idx, np.r_[np.zeros(11, int), 1]))

    graded = (data.kind == "grade") & (data.split == split)
    looks = sorted(set(data.label[graded]) - {"none"})
    photos = sorted(set(data.key[graded]))

    def board_of(look: str, ph: np.ndarray) -> np.ndarray:
        return np.array(
            [np.flatnonzero(graded & (data.label == look) & (data.key == p))[0] for p in ph]
        )

    pairs = list(itertools.combinations(looks, 2))
    if len(pairs) > MAX_GRADE_PAIRS:  # the tune part's 30 LUTs make 435 pairs: a fit's grid
        # would spend most of its time on them; a seeded sample of pairs keeps every look.
        keep = rng.choice(len(pairs), MAX_GRADE_PAIRS, replace=False)
        pairs = [pairs[i] for i in sorted(keep)]
    for a, b in pairs:
        ph = rng.choice(photos, 12, replace=False)
        truth = np.r_[np.zeros(12, int), np.ones(12, int)]
        out.append(Board(f"{a}+{b}", "2-grade", np.r_[board_of(a, ph), board_of(b, ph)], truth))
    for _ in range(8):
        four = rng.choice(looks, 4, replace=False)
        ph = rng.choice(photos, 8, replace=False)
        idx = np.concatenate([board_of(look, ph) for look in four])
        out.append(Board("+".join(four), "4-grade", idx, np.repeat(np.arange(4), 8)))
    for look in looks:
        for _ in range(2):
            ph = rng.choice(photos, 12, replace=False)
            out.append(Board(look, "1-grade", board_of(look, ph), np.zeros(12, int)))
    return out


# --- the report (bench/analyze.py --real) ---------------------------------------------

TOP_KEYWORDS = 8  # "named among the top keywords": the first 8 board keywords by rank


def board_keywords(data: RealSet, idx: np.ndarray) -> list[str]:
    """The board's keywords by rank (score x the term's priority), as the profile page
    lists them."""
    from taste.descriptors import Descriptors
    from taste.keywords import KEYWORDS_PER_FACET, keyword_rank, pick_keywords, score_terms
    from taste.vocabulary import descriptor_columns, load_vocabulary

    fields = Descriptors.VECTOR_FIELDS
    descs = [
        Descriptors(**dict(zip(fields, map(float, v), strict=True))) for v in data.vectors[idx]
    ]
    columns = descriptor_columns(descs)
    inliers = np.arange(len(idx))
    keys = [str(i) for i in idx]
    vocab = load_vocabulary()
    scored = score_terms(vocab, columns, inliers)
    kws = pick_keywords(scored, columns, inliers, keys, per_facet=KEYWORDS_PER_FACET)
    return [k.term for k in sorted(kws, key=lambda k: -keyword_rank(k, vocab))]


def _contradictions(data: RealSet, idx: np.ndarray, terms: list[str]) -> list[str]:
    from taste.descriptors import Descriptors

    f = Descriptors.VECTOR_FIELDS.index
    colourful = float(np.median(data.vectors[idx, f("colourfulness")]))
    sat = float(np.median(data.vectors[idx, f("saturation_mean")]))
    key = float(np.median(data.vectors[idx, f("key")]))
    out = []
    vivid = colourful > 65 and sat > 0.4
    if vivid and ({"faded", "washed out"} & set(terms)):
        out.append(f"vivid board called {sorted({'faded', 'washed out'} & set(terms))}")
    if key < 35 and ({"airy", "high key"} & set(terms)):
        out.append("dark board called airy")
    return out


def case_score(board: Board, labels: np.ndarray) -> tuple[float, int]:
    """(score, k): ARI for mixed boards; for one-look boards 1 when the app found one
    sub-style; for the outlier case 1 when the odd image alone is flagged."""
    from taste.clustering import adjusted_rand

    k = int(labels.max()) + 1
    if board.case == "outlier":
        return float(k == 1 and list(np.flatnonzero(labels < 0)) == [len(labels) - 1]), k
    if len(set(board.truth)) > 1:
        return adjusted_rand(board.truth, labels), k
    return float(k == 1), k


def score_boards(
    data: RealSet, board_list: list[Board], cal: Calibration | None = None
) -> dict[str, list[tuple[float, int, str]]]:
    """case -> [(score, k, name)] with the app's clustering (the installed calibration,
    or the candidate `cal` that bench/realfit.py is trying)."""
    from taste.clustering import cluster_embeddings

    blocks = MagentaDescriptorEncoder.blocks
    emb = data.embeddings
    out: dict[str, list[tuple[float, int, str]]] = {}
    for b in board_list:
        labels = cluster_embeddings(emb[b.idx], blocks, cal=cal).labels
        value, k = case_score(b, labels)
        out.setdefault(b.case, []).append((value, k, b.name))
    return out


MONOCHROME_COLOURFULNESS = 2.0  # Hasler-Suesstrunk M below this: no colour (B&W)


def monochrome_photographs(data: RealSet, split: str) -> np.ndarray:
    """Indices of the split's photographs that have no colour (black-and-white)."""
    from taste.descriptors import Descriptors

    colourful = data.vectors[:, Descriptors.VECTOR_FIELDS.index("colourfulness")]
    photo = (data.kind == "medium") & (data.split == split) & (data.label == "photograph")
    return np.flatnonzero(photo & (colourful < MONOCHROME_COLOURFULNESS))


def _report_monochrome(data: RealSet, split: str) -> None:
    """Black-and-white photographs: what the classifier calls each one, and what a board
    of all of them is named."""
    from taste.calibration import calibration, medium_of

    mono = monochrome_photographs(data, split)
    if not len(mono):
        print("    black-and-white photographs: none in this part")
        return
    cal = calibration()
    called = [cal.media[i] for i in cal.medium_probabilities(data.vectors[mono]).argmax(1)]
    right = sum(c == "photograph" for c in called)
    term, share = medium_of(data.vectors[mono])
    terms = board_keywords(data, mono)[:TOP_KEYWORDS]
    wrong = ", ".join(
        f"{k.split('/')[-1]}={c}"
        for k, c in zip(data.key[mono], called, strict=True)
        if c != "photograph"
    )
    print(
        f"    black-and-white photographs: {right}/{len(mono)} called photograph"
        f"{' (' + wrong + ')' if wrong else ''}; as one board: medium {term or 'none'!r} "
        f"({share:.0%}), 'photograph' among the top {TOP_KEYWORDS} keywords: "
        f"{'yes' if MEDIUM_TERMS['photograph'] in terms else 'no'}"
    )


def report(data: RealSet) -> None:
    for split in ("tune", "validation"):
        note = "fitted on" if split == "tune" else "never tuned on"
        print(f"  {split} part ({note}):")
        split_boards = boards(data, split)
        per_case = score_boards(data, split_boards)
        named, contradictions = [], []
        for b in split_boards:
            if b.case.startswith("1-"):
                terms = board_keywords(data, b.idx)
                contradictions += [f"{b.name}: {c}" for c in _contradictions(data, b.idx, terms)]
                if b.case == "1-medium":
                    hit = MEDIUM_TERMS[b.name] in terms[:TOP_KEYWORDS]
                    named.append((hit, b.name, terms[:TOP_KEYWORDS]))
        for case, rows in per_case.items():
            v = np.array([r[0] for r in rows])
            what = {"outlier": "flagged"}.get(case, "k=1 share" if case.startswith("1-") else "ARI")
            worst = ", ".join(f"{n} {x:.2f} (k={k})" for x, k, n in sorted(rows)[:3])
            print(
                f"    {case:9s} {len(rows):3d} boards  {what} mean {v.mean():.2f}  "
                f"min {v.min():.2f}  >=0.9 on {np.mean(v >= 0.9):.0%}   worst: {worst}"
            )
        share = np.mean([h for h, _, _ in named])
        print(
            f"    medium named among the top {TOP_KEYWORDS} keywords: {share:.0%} of 1-medium boards"
        )
        for hit, name, terms in named:
            if not hit:
                print(f"      missed on {name}: {', '.join(terms)}")
        _report_monochrome(data, split)
        print(f"    contradicting keywords: {len(contradictions)}")
        for c in contradictions[:6]:
            print(f"      {c}")
