"""Query understanding and places: parse cost per query, place data's load time and memory,
and the migration's cost (locating every photo of a 10k library, nothing embedded).

    python -m benchmarks.bench_understanding [--files 10000]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from desktop_app.core.indexing.locate import locate_pending
from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.understanding.geodata import Geocoder, country_names
from desktop_app.core.understanding.parse import understand
from desktop_app.core.understanding.places import Gazetteer, KnownPlace

QUERIES = [
    "beach July 2023",
    "receipts from last year",
    "snow in Japan",
    "the kids in Lisbon",
    "screenshots this week",
    "summer 2021",
    "christmas 2022",
    "in the 90s",
    "yesterday",
    "a July 4th parade",
    "Paris Hilton",
    "jordan shoes",
    "kids on a beach at sunset",
    "a red circle on the left",
    "videos of the dog in the snow",
    "pdfs about taxes 2020",
    "raw photos from Iceland",
    'invoice "2023-0147"',
    "tag:beach -people dog:2",
    "birthday cake with candles",
    "s",
    "sunset over the sea in Portugal last summer",
]


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[int(0.95 * (len(values) - 1))]
    median, top = statistics.median(values), values[-1]
    return f"p50 {median * 1e3:.3f} ms, p95 {p95 * 1e3:.3f} ms, max {top * 1e3:.3f} ms"


def gazetteer(geocoder: Geocoder, cities: int) -> Gazetteer:
    """Every country, and ``cities`` places as if the library had photos there."""
    geocoder.lookup(0.0, 0.0)
    places = [KnownPlace(c, n, n, "country") for c, n in country_names().items()]
    for i in range(0, len(geocoder._city), max(1, len(geocoder._city) // cities)):
        city, code = geocoder._city[i], geocoder._country[i]
        places.append(KnownPlace(f"{code}||{city}", city, city, "city", 1))
    return Gazetteer(places).with_aliases()


def bench_parse(names: Gazetteer) -> None:
    now = datetime(2026, 12, 6, 12)
    for q in QUERIES:  # warm
        understand(q, names, now)
    times = []
    for _ in range(50):
        for q in QUERIES:
            t = time.perf_counter()
            understand(q, names, now)
            times.append(time.perf_counter() - t)
    print(f"parse ({len(QUERIES)} queries x 50, gazetteer of {len(names)} names): {ms(times)}")


def bench_geodata() -> Geocoder:
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    geocoder = Geocoder()
    t = time.perf_counter()
    geocoder.lookup(38.72, -9.14)
    load = time.perf_counter() - t
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"place data: loaded in {load:.2f} s; peak RSS grew {(rss1 - rss0) / 1024:.0f} MiB")
    tracemalloc.start()
    again = Geocoder()
    again.lookup(38.72, -9.14)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"place data: {current / 2**20:.1f} MiB kept, {peak / 2**20:.0f} MiB at peak while loading"
    )
    times = []
    for i in range(2000):
        t = time.perf_counter()
        geocoder.lookup(-60 + (i * 0.061) % 130, -170 + (i * 0.173) % 340)
        times.append(time.perf_counter() - t)
    print(f"reverse geocoding one position: {ms(times)}")
    return geocoder


def bench_migration(files: int, geocoder: Geocoder) -> None:
    from PIL import Image

    from tests.support.geotagged import LISBON, gps_exif

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = root / "source.jpg"
        exif = gps_exif(datetime(2023, 7, 1), LISBON)
        Image.new("RGB", (4000, 3000), (90, 140, 200)).save(source, exif=exif.tobytes(), quality=80)
        catalog = Catalog.open(root / "catalog.sqlite3")
        for i in range(files):
            path = root / f"IMG_{i:05d}.jpg"
            os.link(source, path)
            file_id = catalog.add_file(
                folder_id=None, path=path, size=1, mtime_ns=1, inode=None,
                fingerprint=f"{i:032x}", kind="image",
            )  # fmt: skip
            catalog.update_file(file_id, status="indexed")
        t = time.perf_counter()
        locate_pending(catalog, geocoder)
        done = files
        took = time.perf_counter() - t
        with catalog.session() as s:
            located = s.execute(text("SELECT COUNT(*) FROM places WHERE city = 'Lisbon'")).scalar()
        print(
            f"migration: {done} photos (4000x3000 JPEGs) located in {took:.1f} s "
            f"({took / done * 1e3:.2f} ms each), {located} in Lisbon; nothing embedded"
        )
        t = time.perf_counter()
        catalog.place_counts()
        print(
            f"places listing (lumen places) over {files} files: {(time.perf_counter() - t) * 1e3:.1f} ms"
        )
        catalog.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=10_000)
    args = parser.parse_args()
    geocoder = bench_geodata()
    bench_parse(gazetteer(geocoder, 2000))
    bench_migration(args.files, geocoder)


if __name__ == "__main__":
    main()
