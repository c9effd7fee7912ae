"""The quality numbers (gluon_nst/quality.py): content and style distances, the same for
every run, in record.json, in a sweep's results.csv and from `gluon-nst quality`."""
import csv
import json
import os

import numpy as np
import pytest
from PIL import Image

from gluon_nst import config, quality
from gluon_nst.image_io import read_rgb

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='module')
def images(shared):
    d2l = os.path.join(shared, 'd2l')
    return read_rgb(os.path.join(d2l, 'rainier.jpg')), read_rgb(os.path.join(d2l, 'autumn_oak.jpg'))


@pytest.fixture(scope='module')
def weights(vgg_h5):
    return os.path.dirname(vgg_h5)


def test_an_image_against_itself_scores_zero(images, weights):
    content, style = images
    q = quality.measure(content, content, style, weights_path=weights, size=128)
    assert q['content_distance'] == 0
    q = quality.measure(style, style, style, weights_path=weights, size=128)
    assert q['content_distance'] == 0 and q['style_distance'] == 0


def test_the_content_image_is_nearer_its_content_than_noise(images, weights):
    content, style = images
    noise = np.random.RandomState(0).randint(0, 256, content.shape, dtype=np.uint8)
    grey = np.full_like(content, 128)
    q_noise = quality.measure(noise, content, style, weights_path=weights, size=128)
    q_grey = quality.measure(grey, content, style, weights_path=weights, size=128)
    # The constant divisor makes an image with nothing of the content score about 1.
    assert 0.3 < q_noise['content_distance'] < 3 and 0.3 < q_grey['content_distance'] < 3
    q_blur = quality.measure(np.asarray(Image.fromarray(content).resize((128, 85)).resize(
        content.shape[1::-1])), content, style, weights_path=weights, size=128)
    assert q_blur['content_distance'] < 0.5 * q_noise['content_distance']


def run(cfg_path, tmp_path, name, *sets):
    from gluon_nst.run import train
    cfg = config.load(cfg_path, [f'output.dir={tmp_path / name}', 'threads=1', *sets])
    return train(cfg, quiet=True, stream=open(os.devnull, 'w'))


def shared_sets(shared):
    return [f'weights.path={os.path.join(shared, "weights")}',
            f'content_image={os.path.join(shared, "d2l", "rainier.jpg")}',
            f'style_image={os.path.join(shared, "d2l", "autumn_oak.jpg")}']


@pytest.mark.orchestration   # coarse assertions: one thread count is enough
def test_a_50_step_stylisation_has_more_style_than_the_content(shared, images, weights, tmp_path):
    content, style = images
    run_dir = run(os.path.join(ROOT, 'configs', 'gatys.yaml'), tmp_path, 'gatys',
                  *shared_sets(shared), 'output.quality=false',
                  'stages=[{longest_side: 128, style_longest_side: 128, steps: 50, lr: 1, '
                  'lr_decay_epoch: 0}]')
    result = read_rgb(os.path.join(run_dir, 'result.png'))
    q_result = quality.measure(result, content, style, weights_path=weights, size=128)
    q_content = quality.measure(content, content, style, weights_path=weights, size=128)
    assert q_result['style_distance'] < 0.7 * q_content['style_distance']
    assert 'quality' not in json.load(open(os.path.join(run_dir, 'record.json')))


def test_the_record_carries_the_numbers_whatever_the_convention(shared, images, weights, tmp_path):
    """The same image reached in two conventions scores the same: the numbers are
    measured on the result's pixels, never in the run's own representation."""
    content, style = images
    records = {}
    for convention in ('book', 'caffe'):
        run_dir = run(os.path.join(ROOT, 'configs', 'rainier.yaml'), tmp_path, convention,
                      *shared_sets(shared), f'preprocess.convention={convention}',
                      'stages=[{image_shape: [64, 48], steps: 1, lr: 1.0e-6}]')
        records[convention] = json.load(open(os.path.join(run_dir, 'record.json')))['quality']
        again = quality.measure(read_rgb(os.path.join(run_dir, 'result.png')), content, style,
                                weights_path=weights)
        assert records[convention]['content_distance'] == pytest.approx(
            again['content_distance'], rel=1e-5)
        assert records[convention]['style_distance'] == pytest.approx(
            again['style_distance'], rel=1e-5)
    book, caffe = records['book'], records['caffe']
    assert set(book) >= {'content_distance', 'style_distance', 'layers', 'size', 'network'}
    assert book['size'] == quality.EVAL_SIDE and book['layers']['content'] == 'relu4_2'
    assert book['content_distance'] > 0.01           # a 64x48 image lacks the content's detail
    assert book['content_distance'] == pytest.approx(caffe['content_distance'], rel=1e-3)
    assert book['style_distance'] == pytest.approx(caffe['style_distance'], rel=1e-3)


def test_blended_styles_score_against_the_blended_gram(images, weights):
    content, style = images
    other = style.copy()
    stripes = np.zeros_like(style)
    stripes[::8] = 255
    one = quality.measure(content, content, style, weights_path=weights, size=96)
    twice = quality.measure(content, content, [style, other], [0.3, 0.7], weights_path=weights,
                            size=96)
    assert twice['style_distance'] == pytest.approx(one['style_distance'], rel=1e-3)
    only_first = quality.measure(content, content, [style, stripes], [1, 0],
                                 weights_path=weights, size=96)
    assert only_first['style_distance'] == pytest.approx(one['style_distance'], rel=1e-6)
    blend = quality.measure(content, content, [style, stripes], weights_path=weights, size=96)
    assert blend['style_distance'] != pytest.approx(one['style_distance'], rel=1e-2)


def test_bad_input_is_one_line(images, weights, tmp_path):
    from gluon_nst.errors import UserError
    content, style = images
    with pytest.raises(UserError, match='blend weights'):
        quality.measure(content, content, [style, style], [1], weights_path=weights)
    with pytest.raises(UserError, match='RGB array'):
        quality.measure(content[:, :, 0], content, style, weights_path=weights)
    # Neither a path, $GLUON_NST_WEIGHTS (conftest unsets it) nor the h5 in the cache: an
    # error, never a download.
    with pytest.raises(UserError, match='not found'):
        quality.measure(content, content, style, weights_path=None)
    # A run whose scorer cannot find the Caffe weights still finishes, the reason recorded.
    q = quality.for_run(content, content, style, weights_path=str(tmp_path))
    assert 'error' in q and 'vgg19' in q['error']


def test_cli_scores_files(shared, weights, capsys, tmp_path):
    from gluon_nst.cli import main
    d2l = os.path.join(shared, 'd2l')
    args = ['quality', os.path.join(d2l, 'book', 'neural-style-1.png'),
            os.path.join(d2l, 'rainier.jpg'), os.path.join(d2l, 'autumn_oak.jpg'),
            '--weights', weights, '--size', '96']
    assert main(args) == 0
    line = capsys.readouterr().out
    assert line.startswith('content_distance ') and 'relu5_1' in line
    assert main(args + ['--json']) == 0
    q = json.loads(capsys.readouterr().out)
    assert 0 < q['style_distance'] < 1 and q['size'] == 96
    assert main(['quality', str(tmp_path / 'missing.png'), os.path.join(d2l, 'rainier.jpg'),
                 os.path.join(d2l, 'autumn_oak.jpg'), '--weights', weights]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: ') and 'missing.png' in err and '\n' not in err


def test_sweep_results_list_the_numbers(tmp_path):
    from gluon_nst.sweep import collect
    runs = [{'loss.style_weight': w} for w in (1e2, 1e3, 1e4)]
    dirs = [tmp_path / f'{i:03d}' for i in range(3)]
    for i, d in enumerate(dirs):
        d.mkdir()
        rec = dict(status='finished', wall_seconds=1.0)
        if i < 2:
            rec['quality'] = dict(content_distance=0.1 * (i + 1), style_distance=0.5 - 0.1 * i)
        (d / 'record.json').write_text(json.dumps(rec))
        Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(d / 'result.png')
    collect(str(tmp_path), runs, [str(d) for d in dirs], 'style')
    rows = list(csv.DictReader(open(tmp_path / 'results.csv')))
    assert [(r['content_distance'], r['style_distance']) for r in rows] == \
        [('0.1', '0.5'), ('0.2', '0.4'), ('', '')]
    assert os.path.getsize(tmp_path / 'quality.png') > 0
