"""tcli bench's choice of torch's thread count: from the load average, TCLI_THREADS and --torch-threads, with fake
loads (the real one is whatever other jobs do)."""

from __future__ import annotations

import pytest

from tcli.bench_threads import ThreadChoice, choose_torch_threads, describe, engine_threads, idle_cores


@pytest.mark.parametrize(
    "cores,load,idle",
    [(2, 0.0, 2), (2, 0.4, 2), (2, 0.6, 1), (2, 1.26, 1), (2, 1.6, 1), (2, 5.0, 1), (8, 2.2, 6), (4, None, 4)],
)
def test_idle_cores(cores: int, load: float | None, idle: int) -> None:
    assert idle_cores(cores, load) == idle


def test_a_busy_machine_gives_torch_fewer_threads_and_says_why() -> None:
    # The review's case: load ~1.3 on 2 cores, where torch's two OpenMP workers took 60 ms for a 0.2 ms op.
    c = choose_torch_threads(2, 2, 1.26)
    assert c == ThreadChoice(1, 2, "load 1.26 on 2 cores")
    assert describe(c) == "1 thread of its 2: load 1.26 on 2 cores"


def test_an_idle_machine_keeps_torch_s_default() -> None:
    c = choose_torch_threads(2, 2, 0.1)
    assert c == ThreadChoice(2, 2, None) and describe(c) == "2 threads"
    # never more than torch's own default (OMP_NUM_THREADS=1, or a cpu affinity), however idle the machine
    assert choose_torch_threads(1, 8, 0.0) == ThreadChoice(1, 1, None)


def test_the_engine_s_thread_count_caps_torch_s() -> None:
    c = choose_torch_threads(8, 8, 0.0, engine=3)
    assert c == ThreadChoice(3, 8, "TCLI_THREADS=3, as the engine")
    assert choose_torch_threads(2, 2, 0.0, engine=4).threads == 2


def test_requested_threads_win_over_load_and_engine() -> None:
    assert choose_torch_threads(2, 2, 1.9, requested=2, engine=1) == ThreadChoice(2, 2, None)
    c = choose_torch_threads(2, 2, 0.0, requested=4)
    assert c == ThreadChoice(4, 2, "--torch-threads") and describe(c) == "4 threads of its 2: --torch-threads"


@pytest.mark.parametrize("value,n", [("3", 3), ("", None), ("0", None), ("-2", None), ("many", None)])
def test_engine_threads_reads_tcli_threads(value: str, n: int | None) -> None:
    assert engine_threads({"TCLI_THREADS": value}) == n
    assert engine_threads({}) is None
