"""The benchmarks' machine bound (issues "HTTP API" and "Benchmarks"): what a two-core machine
leaves for the chain when its worker costs what the skeleton worker costs."""

from __future__ import annotations

import math

import pytest

from bench.stack import CpuMeter, ideal_worker_bound


def test_the_bound_replaces_the_workers_by_the_skeleton_worker_and_keeps_the_rest():
    real = {"worker": 30.0, "api": 4.0, "skeleton worker": 0.0, "temporal": 18.0, "postgres": 8.0}
    skeleton = {"worker": 0.0, "api": 0.0, "skeleton worker": 13.0, "temporal": 14.0}
    # Ideal real run: 13 (skeleton worker) + 4 + 18 + 8 = 43 ms against the skeleton's 27 ms.
    assert ideal_worker_bound(real, skeleton, ["worker"], "skeleton worker") == pytest.approx(
        27 / 43
    )


def test_every_worker_of_a_multi_worker_run_is_replaced_once():
    real = {"worker-1": 20.0, "worker-2": 20.0, "temporal": 10.0, "skeleton worker": 0.0}
    skeleton = {"skeleton worker": 10.0, "temporal": 10.0}
    assert ideal_worker_bound(
        real, skeleton, ["worker-1", "worker-2"], "skeleton worker"
    ) == pytest.approx(1.0)


def test_a_run_that_measured_nothing_has_no_bound():
    assert math.isnan(ideal_worker_bound({"worker": 1.0}, {"skeleton worker": 0.0}, ["worker"],
                                         "skeleton worker"))  # fmt: skip


def test_cpu_per_unit_and_busy_share_come_from_what_the_meter_recorded():
    meter = CpuMeter({"worker": [], "api": []})
    meter.used = {"worker": 1.5, "api": 0.5}
    meter.background = 0.0
    meter.wall = 2.0
    assert meter.per_unit(100) == {"worker": 15.0, "api": 5.0}
    assert meter.per_unit(0) == {"worker": 1500.0, "api": 500.0}
    assert 0 < meter.busy_share() <= 1.0
