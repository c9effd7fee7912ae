"""`gluon-nst bench dream` runs end to end (tiny sizes: figures are its job, not the test's)."""
import os

import pytest

from gluon_nst.dream import bench


@pytest.mark.orchestration
def test_bench_reports_every_configuration(shared, capsys):
    weights = os.path.join(shared, 'weights')
    if not os.path.isfile(os.path.join(weights, 'googlenet', 'SHA256SUMS')):
        pytest.fail(f'needs {weights}/googlenet')
    assert bench.main(['--sizes', '128x96', '--tiles', '0,64', '--margins', '0,16', '--steps', '1',
                       '--threads', '1', '--weights', weights, '--profile']) == 0
    out = capsys.readouterr().out
    assert 'machine fp32 peak (sgemm, 1 threads)' in out
    rows = [line.split() for line in out.splitlines() if line.lstrip().startswith('128x96')]
    assert [r[1] for r in rows] == ['whole', '64+0', '64+16']
    for r in rows:
        step_s, gflops = float(r[2]), float(r[4])
        assert step_s > 0 and gflops > 0
    assert rows[0][6] == '1.00x' and float(rows[2][7].rstrip('x')) > 1.0     # margins add pixels
    # The profile splits the gradient's operator time by group; convolutions lead it.
    profile = out.split('profile, 128x96 whole')[1]
    shares = {line.split()[0]: float(line.split()[3].rstrip('%')) for line in profile.splitlines()
              if line.strip().endswith('%') and 'ms' in line}
    assert {'convolution', 'pooling', 'relu'} <= set(shares)
    assert abs(sum(shares.values()) - 100) < 1 and shares['convolution'] == max(shares.values())
    assert 'convolutions alone:' in profile


def test_operator_groups():
    assert bench.op_group('_backward_Convolution') == bench.op_group('Convolution') == 'convolution'
    assert bench.op_group('_backward_Pooling') == 'pooling'
    assert bench.op_group('_power_scalar') == 'other'
