import datetime as dt

from daemon.day.clock import DayClock, minutes_after


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_hall_time_runs_speed_times_real_time():
    real = FakeTime()
    clock = DayClock(dt.time(9), speed=180, monotonic=real)
    assert clock.minutes() == 0
    real.now += 20  # 20 real seconds at 180x: one hour
    assert clock.minutes() == 60
    assert clock.label() == "10:00"
    assert clock.real_seconds(480) == 160  # a 9-to-5 day in 160 s


def test_clock_times_after_opening():
    clock = DayClock(dt.time(8, 30), speed=60, monotonic=FakeTime())
    assert clock.at(95) == dt.time(10, 5)
    assert minutes_after(dt.time(8, 30), dt.time(10, 5)) == 95
    assert minutes_after(dt.time(8, 30), dt.time(8)) == -30
