"""The time-left estimate of the progress lines."""

import pytest

from skimgaug._html import format_duration
from skimgaug.cli.runs._progress import TimeLeft


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _run(time_left, clock, fits, epochs, batches, overhead, batch_seconds, at_each_epoch, ran=None):
    """Fits whose setup and first batch cost ``overhead`` more than a steady batch.

    Each fit is planned for ``epochs`` epochs and runs ``ran`` of them (early stopping).
    """
    for _ in range(fits):
        time_left.fit_started()
        clock.now += overhead
        for _epoch in range(epochs if ran is None else ran):
            for batch in range(batches):
                clock.now += batch_seconds
                time_left.batch_ended(batch)
            at_each_epoch(time_left.epoch_ended(batches), clock.now)
        time_left.fit_ended(epochs)


def test_the_first_estimate_leaves_one_off_costs_out_of_the_epochs():
    clock = FakeClock()
    time_left = TimeLeft(total_epochs=3 * 4, total_fits=3, clock=clock)
    estimates = []
    _run(time_left, clock, 3, 4, 10, 5.0, 0.1, lambda left, now: estimates.append((left, now)))
    end = clock.now
    for left, now in estimates:
        assert left == pytest.approx(end - now)
    # Elapsed / epochs done would have said 5.1 s per epoch: 56 s instead of 21 s.
    assert estimates[0][0] == pytest.approx(2 * 5 + 11 * 1.0)


def test_one_batch_per_epoch_and_early_stopped_fits_still_give_an_estimate():
    clock = FakeClock()
    time_left = TimeLeft(total_epochs=3 * 5, total_fits=3, clock=clock)
    seen = []
    _run(time_left, clock, 3, 5, 1, 1.0, 0.5, lambda left, now: seen.append(left), ran=2)
    assert all(left is not None and left >= 0 for left in seen)
    assert time_left.total_epochs == 3 * 2  # the epochs early stopping skipped are given back
    assert time_left.remaining() == 0


def test_durations_read_as_minutes_and_hours():
    assert format_duration(42) == "0:42"
    assert format_duration(725) == "12:05"
    assert format_duration(3723) == "1:02:03"


def test_parallel_time_left_counts_rounds_of_workers():
    from skimgaug.cli.runs._progress import parallel_time_left

    # 8 fits on 2 workers, 10 s each: the first two finish together at 10 s.
    assert parallel_time_left(1, 8, 2, 10.0) == pytest.approx(30.0)  # 3 rounds to come
    assert parallel_time_left(2, 8, 2, 10.0) == pytest.approx(30.0)
    assert parallel_time_left(1, 2, 2, 5.0) == 0  # the other fit is about done
    assert parallel_time_left(4, 8, 2, 20.0) == pytest.approx(20.0)
    assert parallel_time_left(8, 8, 2, 40.0) == 0
    assert parallel_time_left(3, 8, 1, 30.0) == pytest.approx(50.0)  # serial: per fit
    assert parallel_time_left(0, 8, 2, 5.0) is None
