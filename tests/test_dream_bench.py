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
                       '--threads', '1', '--weights', weights]) == 0
    out = capsys.readouterr().out
    assert 'machine fp32 peak (sgemm, 1 threads)' in out
    rows = [line.split() for line in out.splitlines() if line.lstrip().startswith('128x96')]
    assert [r[1] for r in rows] == ['whole', '64+0', '64+16']
    for r in rows:
        step_s, gflops = float(r[2]), float(r[4])
        assert step_s > 0 and gflops > 0
    assert rows[0][6] == '1.00x' and float(rows[2][7].rstrip('x')) > 1.0     # margins add pixels
