"""Loss curves are scaled by the values that matter, not by float noise."""
import math

from gluon_nst import plots


def test_float_noise_is_not_plotted():
    y = plots.meaningful([2.6e-11, 5.0, 10.0])
    assert math.isnan(y[0]) and list(y[1:]) == [5.0, 10.0]
    assert list(plots.meaningful([0.0, 0.0])) != [0.0, 0.0]          # all zero: nothing to plot
    assert list(plots.meaningful([1e-3, 2.0])) == [1e-3, 2.0]         # small but real


def test_log_axis_starts_near_the_real_values(tmp_path):
    rows = [dict(stage=s, content=c, style=100.0 / (k + 1), tv=2.0, total=c + 100.0 / (k + 1) + 2)
            for k, (s, c) in enumerate([(1, 2.6e-11), (1, 3.0), (1, 5.0), (2, 7.0), (2, 6.0)])]
    low, high = plots.loss_curves(rows, str(tmp_path / 'losses.png'))
    assert (tmp_path / 'losses.png').stat().st_size > 0
    assert low > 0.5 and high > 100        # not down at 1e-11 because of step 0's content
