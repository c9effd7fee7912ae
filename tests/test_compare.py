"""The reproduction report against the book's logs and figures."""
import os

import numpy as np
import pytest

from gluon_nst import config
from gluon_nst.style import compare
from gluon_nst.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_book_losses_parse(d2l):
    ref = compare.read_book_losses(os.path.join(d2l, 'press_losses.txt'))
    assert ref[(1, 0)] == (0.0, 372.72, 2.13)
    assert ref[(2, 250)] == (6.74, 4.59, 1.51)
    assert len(ref) == 16


def test_ratio_text():
    assert compare.ratio_text(2.6e-11, 0.0) == '-'
    assert compare.ratio_text(0.0, 0.0) == '-'
    assert compare.ratio_text(3.0, 2.0) == '1.500'
    assert compare.ratio_text(0.5, 0.0) == 'inf'


def test_psnr():
    a = np.zeros((4, 4, 3), np.uint8)
    assert compare.psnr(a, a) == float('inf')
    assert compare.psnr(a, a + 1) == pytest.approx(48.13, abs=0.01)


def test_report_on_a_short_run(tmp_path, d2l, vgg_h5):
    from gluon_nst.run import train
    cfg = config.load(os.path.join(ROOT, 'configs', 'rainier.yaml'), [
        f'weights.path={os.path.dirname(vgg_h5)}', f'output.dir={tmp_path / "run"}',
        f'content_image={os.path.join(d2l, "rainier.jpg")}',
        f'style_image={os.path.join(d2l, "autumn_oak.jpg")}',
        'stages=[{image_shape: [300, 200], steps: 2}]'])
    run_dir = train(cfg, quiet=True, stream=open(os.devnull, 'w'))
    report = compare.compare_run(run_dir, d2l)
    text = open(report).read()
    step0 = [ln for ln in text.splitlines() if ln.startswith('| 1 | 0 |')][0].split('|')[3:-1]
    book_c, ours_c, ratio_c, book_s, ours_s, ratio_s, book_tv, ours_tv, ratio_tv = step0
    assert ratio_c.strip() == '-'                    # 0.00 against 0.00: no ratio, not inf
    assert (float(book_s), float(book_tv)) == (372.72, 2.13)
    assert float(ours_s) == pytest.approx(float(ratio_s) * 372.72, rel=2e-3)
    assert 0.95 < float(ratio_s) < 1.05 and 0.99 < float(ratio_tv) < 1.01   # calibrated step 0
    row = [ln for ln in text.splitlines() if ln.startswith('| 1 | neural-style-1.png')][0]
    psnr = float(row.split('|')[3])
    assert 10 < psnr < 40                                   # 2 steps from the content image
    assert 'L0:' in row and 'L28:' in row
    assert os.path.getsize(os.path.join(run_dir, 'report.png')) > 0
    # A 2-step single stage is not the book's recipe: the report says so, and that
    # no later logged step was compared.
    assert "not the book's recipe" in text and '1 stage instead of 2' in text
    assert 'no later logged steps in this run' in text
    with pytest.raises(UserError, match='not a run folder'):
        compare.compare_run(str(tmp_path))


def test_differences_from_book_name_each_changed_setting():
    book = config.load(os.path.join(ROOT, 'configs', 'rainier.yaml'))
    assert compare.differences_from_book(book) == []
    preview = config.load(os.path.join(ROOT, 'configs', 'style', 'preview.yaml'))
    diffs = compare.differences_from_book(preview)
    assert 'stage 1 steps 100 (book: 500)' in diffs
    assert 'stage 2 image_shape [450, 300] (book: [1200, 800])' in diffs
    tweaked = config.load(os.path.join(ROOT, 'configs', 'rainier.yaml'), ['loss.style_weight=1e4'])
    assert compare.differences_from_book(tweaked) == ['style_weight 10000.0 (book: 1000)']
