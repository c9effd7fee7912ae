"""`gluon-nst bench dream` runs end to end (tiny sizes: figures are its job, not the test's)."""
import json
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
    assert 'machine fp32 peak (sgemm, 1 thread): ' in out
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


def test_operator_groups_of_both_profilers():
    from gluon_nst.benchmark import group_ops, op_group
    assert op_group('_backward_Convolution') == op_group('Convolution') == 'convolution'
    assert op_group('aten::convolution_backward') == op_group('aten::mkldnn_convolution') == \
        op_group('aten::_slow_conv2d_backward') == 'convolution'
    assert op_group('_backward_Pooling') == op_group('aten::max_pool2d_with_indices_backward') == 'pooling'
    assert op_group('_backward_FullyConnected') == op_group('aten::mm') == 'matmul'
    assert op_group('_backward_Activation') == op_group('aten::threshold_backward') == 'relu'
    assert op_group('_power_scalar') == op_group('aten::avg_pool3d') == 'other'
    assert group_ops({'Convolution': 2.0, '_backward_Convolution': 3.0, 'add_n': 1.0}) == \
        dict(convolution=5.0, other=1.0)


@pytest.mark.orchestration
def test_bench_dream_against_the_same_googlenet_in_torch(googlenet_weights, capsys):
    pytest.importorskip('torch', reason='needs torch (pip install -c constraints.txt -e ".[bench]")')
    assert bench.main(['--peers', '--sizes', '96x64', '--steps', '1', '--octaves', '2', '--repeats', '1',
                       '--threads', '1', '--weights', googlenet_weights, '--profile', '--json']) == 0
    report = json.loads(capsys.readouterr().out)
    step, whole = report['peers']
    from gluon_nst.dream.schema import use_onednn
    onednn = 'on' if use_onednn('auto') else 'off'                  # the dream's default here
    assert step['work'] == f'step 96x64 (inception_4c/output), oneDNN {onednn}'
    assert step['agreement'] < 1e-4
    assert whole['work'].startswith('whole dream, 2 octaves')
    for row in (step, whole):
        assert row['ours_s'] > 0 and row['torch_s'] > 0
        assert row['ratio'] == pytest.approx(row['ours_s'] / row['torch_s'])
        assert row['ours_peak_rss_mb'] > 100 and row['torch_peak_rss_mb'] > 100
    # --profile: both sides' gradients by operator group (at this size the LRN, in `other`,
    # can cost as much as the convolutions).
    [profile] = report['profiles']
    for side in ('ours', 'torch'):
        groups = profile[side]
        assert groups['convolution'] > 0.2 * sum(groups.values()) and groups['pooling'] > 0
