"""The vector index's tuning: when search is exact, the graph's degree and beams, filters,
compaction and chunk sizes, with the measurements that chose them."""

from __future__ import annotations

from typing import Final

# ---------------------------------------------------------------------------------------------
# Tuning. Figures on the team's 2-core EPYC (AVX2), 512-d clustered synthetic vectors as in
# benchmarks/bench_search.py, taken while other work kept the machine loaded (load 2–3):
# absolute times are pessimistic, ratios hold. Re-run benchmarks/bench_hnsw_sweep.py and
# bench_search_1m.py before changing any of these.
# ---------------------------------------------------------------------------------------------

# Exact search while the live vectors hold at most this many floats (10k items at 512-d, 6.7k
# at 768-d). An exact query reads every vector once; up to 10k, exactness costs a few ms per
# query, well under the ≈ 25 ms of encoding the query.
EXACT_MAX_FLOATS: Final = 5_120_000

# Graph degree and build beam. The graph holds int8 vectors (usearch): its candidates are
# ranked again by the float16 rows, so its recall is that of float vectors. At 100k
# (bench_hnsw_sweep.py, load ≈ 2.5, recall@10 at ef 100 / 316): hnswlib M=32/200 (float32,
# the previous index) 1,380 items/s, 0.960 / 0.999; usearch int8 M=32/200 1,524 items/s,
# 0.959 / 0.997; M=32/100 2,785 items/s, 0.941 / 0.991; M=16/100 4,216 items/s, 0.839 / 0.955.
# At 1M, ef_construction 100 stops at 0.939 (ef 800): kept at 200. Float16 graphs build 2.3×
# slower than int8 (no float16 arithmetic on this CPU); int8 unranked stops at recall 0.83.
# At 200k continuous vectors (bench_search.latent) M=32/200 holds 0.998 at beam 226; M=24/100
# builds 1.4x (clustered) to 3.1x faster but strands 4.5k clustered vectors. k-means lists
# (IVF) built 1M in 18-33 s, but at 100k continuous vectors needed 64 of 224 lists for 0.95
# (the graph: 0.995): dropped. A million linked region by region (bench_restore.py, 7 Dec, 2
# cores): ef_construction 200 took 378 s, recall@10 0.991 at beam 506; 128 took 274 s, 0.938.
HNSW_M: Final = 32
HNSW_EF_CONSTRUCTION: Final = 200
# Query beam: ef = max(EF_SEARCH, 2k) up to EF_GROWS_FROM live items, then growing with the
# square root of the size (filtered searches' too). At 1M (bench_search_1m.py, load 2–3): recall
# 0.938 / 0.974 / 0.981 / 0.991 at ef 200 / 316 / 400 / 600 (p50 3.9 / 4.7 / 5.7 / 7.4 ms).
EF_SEARCH: Final = 160  # 1M: a beam of 506, for the 0.985 hnswlib had at 316
EF_GROWS_FROM: Final = 100_000
# Filtered graph searches fetch about beam · n / m candidates (m allowed of n) and keep the
# allowed ones (cost ∝ n / m); an exact scan of the m allowed rows costs ∝ m. The scan is
# chosen while m² ≤ FILTER_BALANCE · n (1M: m ≤ 22k), and always while n ≤ exact_threshold.
EF_FILTERED: Final = 100
FILTER_BALANCE: Final = 500
MAX_FILTER_FETCH: Final = 50_000  # candidates a filtered graph search fetches, at most

# Deleted (and replaced) entries stay in the graph as waypoints, never returned, until
# `compact`. Past this share, a rebuild pays off (searches keep running on the old graph).
COMPACTION_THRESHOLD: Final = 0.25

# Items per exclusive graph insertion (searches from other threads run between chunks).
ADD_CHUNK: Final = 1024
# Rows streamed at a time while rebuilding or saving.
SCAN_CHUNK: Final = 8192
