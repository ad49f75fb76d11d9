"""`make bench`'s baselines and results (see scripts/bench.py)."""
