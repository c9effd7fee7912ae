"""The fast method: Magenta's network through ONNX Runtime with the real files from
../shared, its run folder, folder mode, strength and blends, and bad input."""
import csv
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml
from PIL import Image

from gluon_nst import config
from gluon_nst.errors import UserError
from gluon_nst.fast import engine, stylize
from gluon_nst.image_io import read_rgb
from gluon_nst.imaging import to_uint8
from gluon_nst.models import magenta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='session')
def magenta_dir(shared):
    path = os.path.join(shared, 'weights', 'magenta')
    if not os.path.isdir(path):
        pytest.fail(f'needs {path} (the Magenta ONNX files)')
    return path


@pytest.fixture(scope='session')
def model(magenta_dir):
    return magenta.load(os.path.dirname(magenta_dir), threads=1)


@pytest.fixture(scope='session')
def images(d2l):
    content = read_rgb(os.path.join(d2l, 'rainier.jpg'))
    style = read_rgb(os.path.join(d2l, 'autumn_oak.jpg'))
    small = to_uint8(magenta.resize(content, 192, 128), 1.0)
    return dict(content=content, style=style, small=small)


def psnr(a, b):
    return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


# ---- the network -----------------------------------------------------------

@pytest.mark.parametrize('width,height', [(96, 64), (131, 97), (384, 384), (600, 400)])
def test_output_shape_and_range_at_several_sizes(model, images, width, height):
    vector = model.style_vector(images['style'])
    assert vector.shape == (100,) and np.isfinite(vector).all()
    out = model.transform(magenta.resize(images['content'], width, height), vector)
    assert out.shape == (height, width, 3) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert out.std() > 0.05                      # an image, not a constant


def test_stylize_sizes_follow_the_longest_side(model, images):
    assert stylize(images['content'], images['style'], longest_side=150,
                   model=model).shape == (100, 150, 3)
    portrait = images['small'].transpose(1, 0, 2)            # 128 wide, 192 high
    out = stylize(portrait, images['style'], model=model)
    assert out.shape == portrait.shape and out.dtype == np.uint8
    assert stylize(portrait, images['style'], size=(60, 50), model=model).shape == (50, 60, 3)


def test_deterministic(model, images):
    a = stylize(images['small'], images['style'], model=model)
    b = stylize(images['small'], images['style'], model=model)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_symbolic_shape_model_equals_the_shipped_one_at_384(model, magenta_dir, images):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    shipped = ort.InferenceSession(os.path.join(magenta_dir, 'arbitrary_transform.onnx'), options,
                                   providers=['CPUExecutionProvider'])
    assert shipped.get_inputs()[0].shape == [1, 384, 384, 3]       # the file is untouched
    assert model.transformer.get_inputs()[0].shape == [1, 'height', 'width', 3]
    x = magenta.resize(images['content'], 384, 384)
    v = model.style_vector(images['style'])
    ref = shipped.run(None, {'content_image': x[None],
                             'mobilenet_conv/Conv/BiasAdd': v.reshape(1, 1, 1, 100)})[0][0]
    np.testing.assert_allclose(model.transform(x, v), ref, atol=1e-5)


def test_strength_0_is_nearer_the_content_and_1_nearer_the_style_grams(model, images, vgg_h5):
    import mxnet as mx
    from gluon_nst.image_io import preprocess
    from gluon_nst.models import vgg19
    content, style = images['small'], images['style']
    out = {s: stylize(content, style, strength=s, model=model) for s in (0.0, 0.5, 1.0)}
    p = {s: psnr(img, content) for s, img in out.items()}
    # Measured: 16.3, 12.5, 8.2 dB.
    assert p[0.0] > p[0.5] > p[1.0] and p[0.0] > p[1.0] + 4

    net, _ = vgg19.get_model(path=os.path.dirname(os.path.dirname(vgg_h5)), depth=29)
    layers = [0, 5, 10, 19, 28]

    def grams(img):
        x, out = preprocess(img, (img.shape[1], img.shape[0])), []
        for i, blk in enumerate(net):
            x = blk(x)
            if i in layers:
                c, h, w = x.shape[1:]
                f = x.reshape((c, h * w))
                out.append((mx.nd.dot(f, f, transpose_b=True) / (c * h * w)).asnumpy())
        return out

    target = grams(to_uint8(magenta.square_image(style, 256), 1.0))

    def distance(img):           # mean relative squared Gram distance over the style layers
        return np.mean([np.mean((a - b) ** 2) / np.mean(b ** 2) for a, b in zip(grams(img), target)])
    d = {s: distance(img) for s, img in out.items()}
    # Measured: 0.75, 0.33, 0.21.
    assert d[1.0] < d[0.5] < d[0.0] and d[1.0] < 0.5 * d[0.0]


def test_blends_interpolate_style_vectors(model, images):
    a, b = model.style_vector(images['style']), model.style_vector(images['content'])
    np.testing.assert_allclose(engine.blend([a, b], [3, 1]), 0.75 * a + 0.25 * b, atol=1e-6)
    np.testing.assert_allclose(engine.blend([a, b], [1, 0]), a, atol=1e-6)
    one = stylize(images['small'], images['style'], model=model)
    weighted = stylize(images['small'], [images['style'], images['content']], [1, 0],
                       model=model)
    assert np.abs(one.astype(int) - weighted.astype(int)).max() <= 1
    half = stylize(images['small'], [images['style'], images['content']], model=model)
    assert np.abs(half.astype(int) - one.astype(int)).mean() > 5
    with pytest.raises(UserError, match='2 weights for 1 styles'):
        engine.blend([a], [1, 1])
    with pytest.raises(UserError, match=r'strength 1\.5'):
        stylize(images['small'], images['style'], strength=1.5, model=model)


def test_mxnet_onnx_importer_cannot_read_these_graphs(magenta_dir, tmp_path):
    """Why ONNX Runtime (docs/development/decisions.md): MXNet 1.9's importer stops on the int8 graphs."""
    import onnx
    from onnx import helper
    from mxnet.contrib import onnx as onnx_mxnet
    path = os.path.join(magenta_dir, 'arbitrary_predict.onnx')
    with pytest.raises(KeyError):                # initializers that are not graph inputs
        onnx_mxnet.import_model(path)
    m = onnx.load(path)
    for t in m.graph.initializer:
        m.graph.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    onnx.save(m, str(tmp_path / 'p.onnx'))
    with pytest.raises(NotImplementedError, match='QuantizeLinear|DequantizeLinear'):
        onnx_mxnet.import_model(str(tmp_path / 'p.onnx'))


# ---- the method: run folders -----------------------------------------------

def write_cfg(tmp_path, shared, **keys):
    cfg = dict(method='fast', style_image=os.path.join(shared, 'd2l', 'autumn_oak.jpg'),
               weights=dict(path=os.path.join(shared, 'weights')), threads=1,
               output=dict(dir=str(tmp_path / 'run')))
    cfg.update(keys)
    p = tmp_path / 'fast.yaml'
    p.write_text(yaml.safe_dump(cfg))
    return str(p)


def train(path, *overrides):
    from gluon_nst.run import train as run_train
    return run_train(config.load(path, overrides), quiet=True, stream=open(os.devnull, 'w'))


def rows_of(run_dir):
    with open(os.path.join(run_dir, 'losses.csv')) as f:
        return list(csv.DictReader(f))


def test_rainier_config_writes_the_run_folder(shared, tmp_path):
    # The shipped config with its shared paths moved to $GLUON_NST_SHARED (a clone elsewhere).
    run_dir = train(os.path.join(ROOT, 'configs', 'fast', 'rainier.yaml'),
                    f'output.dir={tmp_path / "run"}', 'threads=1', 'longest_side=240',
                    f'content_image={shared}/d2l/rainier.jpg',
                    f'style_image={shared}/d2l/autumn_oak.jpg', f'weights.path={shared}/weights')
    for name in ('config.yaml', 'losses.csv', 'losses.png', 'sheet.png', 'record.json',
                 'result.png'):
        assert os.path.getsize(os.path.join(run_dir, name)) > 0, name
    assert Image.open(os.path.join(run_dir, 'result.png')).size == (240, 160)
    [row] = rows_of(run_dir)
    assert row['status'] == 'ok' and (row['width'], row['height']) == ('240', '160')
    assert 0 < float(row['transform_s']) <= float(row['seconds'])
    rec = json.load(open(os.path.join(run_dir, 'record.json')))
    assert rec['status'] == 'finished' and rec['method'] == 'fast' and rec['threads'] == 1
    assert rec['model']['threads'] == 1
    assert rec['model']['files']['transformer']['sha256'] == magenta.FILES['transformer']['hash']
    assert rec['content']['written'] == 1 and rec['styles'][0]['weight'] == 1.0


def test_folder_mode_skips_one_bad_image_and_writes_the_rest(shared, tmp_path, images, capsys):
    folder = tmp_path / 'photos'
    folder.mkdir()
    Image.fromarray(images['small']).save(folder / 'a.png')
    Image.fromarray(images['small'][:64, :96]).save(folder / 'b.jpg')
    (folder / 'broken.jpg').write_bytes(b'not a jpeg at all')
    (folder / 'notes.txt').write_text('not an image, not listed')
    from gluon_nst.run import train as run_train
    bar = io.StringIO()
    run_dir = run_train(config.load(write_cfg(tmp_path, shared, content_image=str(folder))),
                        stream=bar)
    assert 'image 3/3 broken.jpg' in bar.getvalue() and '100%' in bar.getvalue()
    assert 'skipped: content image' in capsys.readouterr().err
    assert Image.open(os.path.join(run_dir, 'a_styled.png')).size == (192, 128)
    assert Image.open(os.path.join(run_dir, 'b_styled.png')).size == (96, 64)
    assert not os.path.exists(os.path.join(run_dir, 'broken_styled.png'))
    rows = rows_of(run_dir)
    assert [r['file'] for r in rows] == ['a.png', 'b.jpg', 'broken.jpg']
    assert [r['status'] for r in rows[:2]] == ['ok', 'ok']
    assert rows[2]['status'].startswith('skipped:') and 'broken.jpg' in rows[2]['status']
    rec = json.load(open(os.path.join(run_dir, 'record.json')))
    assert rec['status'] == 'finished' and rec['content']['mode'] == 'folder'
    assert rec['content']['written'] == 2 and len(rec['content']['skipped']) == 1
    # A glob picks its own files.
    run2 = train(write_cfg(tmp_path, shared, content_image=str(folder / '*.png'),
                           output=dict(dir=str(tmp_path / 'run2'))))
    assert [r['file'] for r in rows_of(run2)] == ['a.png']
    assert os.path.isfile(os.path.join(run2, 'a_styled.png'))


def test_blend_config_records_normalised_weights(shared, tmp_path):
    rainier, oak = os.path.join(shared, 'd2l', 'rainier.jpg'), os.path.join(shared, 'd2l', 'autumn_oak.jpg')
    cfg = write_cfg(tmp_path, shared, content_image=rainier, longest_side=96, strength=0.5,
                    style_image=[oak, rainier], style_blend_weights=[3, 1])
    rec = json.load(open(os.path.join(train(cfg), 'record.json')))
    assert [s['weight'] for s in rec['styles']] == [0.75, 0.25] and rec['strength'] == 0.5
    assert [s['path'] for s in rec['styles']] == [oak, rainier]


def test_legacy_blend_keys_map_onto_the_list_with_one_line(shared, tmp_path, capsys):
    rainier, oak = os.path.join(shared, 'd2l', 'rainier.jpg'), os.path.join(shared, 'd2l', 'autumn_oak.jpg')
    cfg = config.load(write_cfg(tmp_path, shared, content_image=rainier,
                                blend=dict(image_2=rainier, weights=[3, 1])))
    assert cfg['style_image'] == [oak, rainier] and cfg['style_blend_weights'] == [3.0, 1.0]
    err = capsys.readouterr().err.strip()
    assert err.count('\n') == 0 and "'blend.image_2', 'blend.weights' are deprecated" in err
    assert 'style_image: [a.jpg, b.jpg]' in err
    # blend.image_2 is read from the config file's folder, as before.
    (tmp_path / 'sub').mkdir()
    p = tmp_path / 'sub' / 'legacy.yaml'
    p.write_text(yaml.safe_dump(dict(method='fast', content_image=rainier, style_image=oak,
                                     blend=dict(image_2='../style2.jpg'))))
    assert config.load(str(p))['style_image'][1] == str(tmp_path / 'style2.jpg')
    with pytest.raises(UserError, match="give only style_blend_weights"):
        config.load(str(p), ['blend.weights=[1, 1]', 'style_blend_weights=[1, 1]'])
    with pytest.raises(UserError, match=r"give the styles only as style_image: \[a.jpg, b.jpg\]"):
        config.load(str(p), [f'style_image=[{oak}, {rainier}]'])


# ---- bad input: one line, before any work -----------------------------------

def bad(path, match, *overrides, run_dir=None):
    with pytest.raises(UserError, match=match) as e:
        train(path, *overrides)
    assert '\n' not in str(e.value)
    if run_dir is not None:
        assert not os.path.exists(run_dir)


def test_bad_input_is_one_line_before_any_work(shared, tmp_path, magenta_dir):
    rainier = os.path.join(shared, 'd2l', 'rainier.jpg')
    run_dir = str(tmp_path / 'run')
    cfg = write_cfg(tmp_path, shared, content_image=rainier)
    not_image = tmp_path / 'style.jpg'
    not_image.write_text('hello')
    bad(cfg, 'style image .*style.jpg is not an image', f'style_image={not_image}', run_dir=run_dir)
    empty = tmp_path / 'empty'
    empty.mkdir()
    bad(cfg, 'has no images', f'content_image={empty}', run_dir=run_dir)
    bad(cfg, 'matches no file', f'content_image={tmp_path}/*.jpeg', run_dir=run_dir)
    bad(cfg, r"'strength': got 1.5, expected a value >= 0 and <= 1, or 'auto'", 'strength=1.5')
    bad(cfg, r"'strength'", 'strength=-0.1')
    bad(cfg, "'style_blend_weights': 2 weights for 1 style image", 'style_blend_weights=[1, 2]')
    bad(cfg, "'style_blend_weights'.*positive sum", f'style_image=[{rainier}, {rainier}]',
        'style_blend_weights=[0, 0]')
    bad(cfg, r"'strength': got 'strong', expected a value >= 0 and <= 1, or 'auto'", 'strength=strong')
    bad(cfg, "'precision': got 'fp16', expected one of float, int8", 'precision=fp16')
    # A corrupt model file: the hash names the file and the expected digest.
    weights = tmp_path / 'weights' / 'magenta'
    weights.mkdir(parents=True)
    shutil.copy(os.path.join(magenta_dir, 'arbitrary_predict.onnx'), weights)
    data = bytearray(open(os.path.join(magenta_dir, 'arbitrary_transform.onnx'), 'rb').read())
    data[1000] ^= 0xFF
    (weights / 'arbitrary_transform.onnx').write_bytes(bytes(data))
    bad(cfg, f'arbitrary_transform.onnx .*expected {magenta.FILES["transformer"]["hash"]}',
        f'weights.path={weights.parent}', run_dir=run_dir)
    bad(cfg, 'arbitrary_predict.onnx .*does not exist', f'weights.path={empty}')
    bad(cfg, 'arbitrary_predict.onnx not found: set weights.path', 'weights.path=null')


def test_cli_bad_style_exits_2_with_one_line(shared, tmp_path):
    not_image = tmp_path / 'style.png'
    not_image.write_text('hello')
    cfg = write_cfg(tmp_path, shared, content_image=os.path.join(shared, 'd2l', 'rainier.jpg'),
                    style_image=str(not_image))
    r = subprocess.run([sys.executable, os.path.join(ROOT, 'scripts', 'train.py'), cfg],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().count('\n') == 0 and 'is not an image' in r.stderr
    assert not os.path.exists(tmp_path / 'run')


def test_too_large_for_memory_is_refused_before_work(shared, tmp_path, monkeypatch):
    from gluon_nst import runtime
    monkeypatch.setattr(runtime, 'available_memory_bytes', lambda: 300 * 2 ** 20)
    cfg = write_cfg(tmp_path, shared, content_image=os.path.join(shared, 'd2l', 'rainier.jpg'))
    bad(cfg, r'at 2048x1365 needs about .* GiB .*set longest_side', run_dir=str(tmp_path / 'run'))
    run_dir = train(cfg, 'longest_side=64')               # small enough: runs
    assert os.path.isfile(os.path.join(run_dir, 'result.png'))


def test_bench_reports_seconds_and_memory(shared, capsys):
    from gluon_nst.fast import bench
    bench.main(['--sizes', '96x64', '--repeats', '1', '--threads', '1', '--json', '--no-peak',
                '--weights', os.path.join(shared, 'weights')])
    [r] = json.loads(capsys.readouterr().out)['results']
    assert (r['width'], r['height']) == (96, 64)
    assert 0 < r['seconds_per_image'] < 30 and r['peak_rss_mb'] > r['loaded_rss_mb'] * 0.9 > 0


def test_a_runtime_failure_skips_that_image_in_folder_mode(shared, tmp_path, images, monkeypatch):
    from gluon_nst.errors import RunFailed
    weights = os.path.join(shared, 'weights')
    model = magenta.load(weights, threads=1, precision='float')        # the method's default
    real = model.transformer

    class FailsAt64Rows:             # ONNX Runtime running out of memory on one size
        def __getattr__(self, name):
            return getattr(real, name)

        def run(self, outputs, feed):
            if feed[model.content_input].shape[1] == 64:
                raise Exception('[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Failed to allocate '
                                'memory for requested buffer of size 123')
            return real.run(outputs, feed)
    monkeypatch.setattr(model, 'transformer', FailsAt64Rows())
    with pytest.raises(RunFailed, match=r'failed on a 96x64 image .*out of memory: set longest_side'):
        model.transform(magenta.resize(images['small'], 96, 64), model.style_vector(images['style']))
    folder = tmp_path / 'photos'
    folder.mkdir()
    Image.fromarray(images['small']).save(folder / 'a.png')
    Image.fromarray(images['small'][:64, :96]).save(folder / 'b.png')
    run_dir = train(write_cfg(tmp_path, shared, content_image=str(folder)))
    assert [r['status'][:8] for r in rows_of(run_dir)] == ['ok', 'skipped:']
    assert os.path.isfile(os.path.join(run_dir, 'a_styled.png'))
    assert not os.path.exists(os.path.join(run_dir, 'b_styled.png'))
    # One image: the run fails (exit 1) with the reason, its logs kept.
    with pytest.raises(RunFailed, match='out of memory'):
        train(write_cfg(tmp_path, shared, content_image=str(folder / 'b.png'),
                        output=dict(dir=str(tmp_path / 'one'))))
    assert json.load(open(tmp_path / 'one' / 'record.json'))['status'] == 'failed'
