"""Would LSH banding find what the sketch anchors find? Recall on corpus-made pairs, no database.

For near-duplicates and excerpts made as `bench/scale.py` makes them (pairs of a planted file and
the earlier post it copies), counts the pairs each lookup would bring back as candidates:
- anchors (what ingest does): at least `dedup.MIN_SHARED` sketch values in common;
- banding by position: the sorted sketch cut into b bands of r values, one key per band, a
  candidate when one band's values are all equal;
- banding by value range: the hash space cut into b ranges, one key per range (its values).
A candidate is only the start: ingest then compares the sketches; "decided" counts the pairs
whose comparison then links them (resemblance ≥ 0.8 for copies, containment ≥ 0.8 for excerpts).

    python bench/anchor_banding.py [--pairs 2000]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import scale_data
from workers import dedup, ingest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "jekyll-mirror"
Sketch = tuple[int, ...]


def by_position(bands: int) -> Callable[[Sketch], set[tuple[int, ...]]]:
    rows = dedup.SKETCH_SIZE // bands

    def keys(values: Sketch) -> set[tuple[int, ...]]:
        return {(band, *values[band * rows : (band + 1) * rows]) for band in range(bands)}

    return keys


def by_range(bands: int) -> Callable[[Sketch], set[tuple[int, ...]]]:
    width = (1 << 64) // bands

    def keys(values: Sketch) -> set[tuple[int, ...]]:
        found: dict[int, list[int]] = {}
        for v in values:
            found.setdefault((v + (1 << 63)) // width, []).append(v)
        return {(band, *vs) for band, vs in found.items()}

    return keys


def sketch_of(made: str) -> Sketch | None:
    reading = ingest.read(made.encode(), None)
    return reading.documents[0].sketch if reading.documents else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=2000, help="pairs of each kind")
    args = parser.parse_args()
    corpus = scale_data.load(CORPUS)
    lookups = {"anchors (>= 4 shared values)": None} | {
        f"{b} bands of {dedup.SKETCH_SIZE // b} by position": by_position(b) for b in (32, 16, 8)
    }
    lookups |= {f"{b} value ranges": by_range(b) for b in (32, 16)}
    for kind, make, decides in (
        ("near_duplicate", scale_data.near_duplicate, lambda s: s.resemblance >= 0.8),
        ("excerpt", scale_data.excerpt, lambda s: s.a_in_b >= 0.8),
    ):
        found: Counter[str] = Counter()
        decided: Counter[str] = Counter()
        pairs = 0
        n = 1000
        while pairs < args.pairs:
            n += 1
            m = scale_data.earlier(n, "post") if scale_data.kind(n) == kind else None
            copy = sketch_of(make(n, m, corpus)) if m is not None else None
            original = sketch_of(scale_data.post(m, corpus)) if m is not None else None
            if not copy or not original:
                continue
            pairs += 1
            links = decides(dedup.compare(copy, original))
            for name, keys in lookups.items():
                hit = (
                    len(set(copy) & set(original)) >= dedup.MIN_SHARED
                    if keys is None
                    else bool(keys(copy) & keys(original))
                )
                found[name] += hit
                decided[name] += hit and links
        print(f"{kind}: {pairs} pairs (candidate found / then linked)")
        for name in lookups:
            print(f"  {name:<32} {found[name] / pairs:6.1%}  {decided[name] / pairs:6.1%}")


if __name__ == "__main__":
    main()
