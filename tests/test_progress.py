"""The progress bar's ETA leaves each stage's first step (graph build) out of the rate."""
import io

from gluon_nst.run import SteadyRate, _progress_bar


def test_steady_rate_ignores_the_first_step_of_each_stage():
    rate = SteadyRate()
    assert rate.rate == 0.0                          # unknown before any steady step
    rate.add(1, 0, 100.0, 10)                        # compile + step 0: 100 s
    assert rate.rate == 0.0
    for step in range(1, 5):                         # then 1 s per step of 10 units
        rate.add(1, step, 100.0 + step, 10)
    assert rate.rate == 10.0
    rate.add(2, 0, 50.0, 40)                         # stage 2 compiles again: ignored
    rate.add(2, 1, 52.0, 40)                         # 2 s for 40 units
    assert rate.rate == (40 + 40) / (4 + 2)


def test_bar_eta_uses_the_steady_rate():
    rate, stream = SteadyRate(), io.StringIO()
    bar = _progress_bar(1000, stream, rate)
    rate.add(1, 0, 100.0, 10)
    bar.update(10)
    assert '<?' in str(bar)                          # no ETA from the compile step alone
    rate.add(1, 1, 101.0, 10)
    bar.update(10)
    assert bar.format_dict['rate'] == 10.0
    assert '<01:38' in str(bar)                      # 980 units left at 10 units/s
    bar.close()
