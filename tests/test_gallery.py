"""scripts/gallery.py: thumbnails under the docs' 200 KB image limit and a table row from a run folder."""
import importlib.util
import json
import os

import numpy as np
import yaml
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location('gallery', os.path.join(ROOT, 'scripts', 'gallery.py'))
gallery = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gallery)


def _run_folder(path, record, optimizer='adam'):
    os.makedirs(path)
    noise = np.random.RandomState(0).randint(0, 256, (800, 1200, 3), dtype=np.uint8)
    Image.fromarray(noise).save(os.path.join(path, 'result.png'))    # incompressible: the worst case
    with open(os.path.join(path, 'record.json'), 'w') as f:
        json.dump(record, f)
    with open(os.path.join(path, 'config.yaml'), 'w') as f:
        yaml.safe_dump({'optimizer': {'name': optimizer}}, f)


def test_rows_and_thumbnails_under_200_kb(tmp_path, capsys):
    quality = {'content_distance': 0.98, 'style_distance': 0.5623}
    _run_folder(str(tmp_path / 'd2l'), dict(
        method='style', status='interrupted', steps_done=710, wall_seconds=5989.1, threads=1,
        stages=[{'steps': 500}, {'steps': 300}], quality=quality,
        command='scripts/train.py configs/rainier.yaml -o x'))
    _run_folder(str(tmp_path / 'keras'), dict(
        method='style', status='finished', steps_done=10, wall_seconds=2061.3, threads=1,
        stages=[{'steps': 10}], quality=quality, command='train configs/style/keras_lbfgs.yaml'),
        optimizer='lbfgs')
    out = tmp_path / 'thumbs'
    assert gallery.main([str(tmp_path / 'd2l'), str(tmp_path / 'keras'), '--out', str(out),
                         '--width', '400']) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].startswith('| `configs/rainier.yaml` | 710 of 800 steps (interrupted) | 99.8 min, 1 ')
    assert '0.980 / 0.562' in lines[2]
    assert '| 10 rounds |' in lines[3]
    for name in ('d2l', 'keras'):
        thumb = out / f'{name}.png'
        assert thumb.stat().st_size <= 200 * 1024
        w, h = Image.open(thumb).size
        assert w < 400 and abs(w / h - 1.5) < 0.02    # noise at 400 px passes 200 KB: shrunk


def test_a_folder_without_a_record_is_refused(tmp_path, capsys):
    assert gallery.main([str(tmp_path), '--out', str(tmp_path / 't')]) == 2
    assert 'has no record.json' in capsys.readouterr().err
