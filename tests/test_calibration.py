"""The Caffe feature-scale fit (gluon_nst.style.calibrate, scripts/calibrate.py) on
synthetic measurements whose right answer is known, and on the book's own log."""
import json
import os

import numpy as np

from gluon_nst.style import calibrate as calibration


def synthetic_round(seed=0):
    """A measured round (as calibration.measure saves it) at the shipped scales."""
    rng = np.random.RandomState(seed)
    scales = [[calibration.CAFFE_FEATURE_SCALE[i][k] for i in calibration.LAYERS] for k in (0, 1)]
    stages = {}
    for stage in ('1', '2'):
        stages[stage] = dict(per_layer={
            str(step): dict(content=float(rng.uniform(1e4, 1e5)),
                            style=[float(v) for v in rng.uniform(1e9, 1e11, 5)])
            for step in (0, 50, 100)})
    return json.loads(json.dumps(dict(scales=scales, stages=stages)))


def log_error(m, book, scales):
    """Squared log distance of the predicted logged losses from the book's."""
    err = 0.0
    for stage in (1, 2):
        now = np.log(m['scales'][stage - 1])
        for step, (c, s) in calibration.predict(m, stage, np.log(scales[stage - 1]), now).items():
            bc, bs = book[(stage, step)]
            err += np.log(c / bc) ** 2 + np.log(s / bs) ** 2
    return err


def test_fit_moves_the_scales_towards_the_ones_that_log_the_book():
    m = synthetic_round()
    factors = np.array([1.2, 0.9, 1.1, 0.85, 1.15, 0.95])
    true = [list(np.array(s) * factors) for s in m['scales']]
    book = {}
    for stage in (1, 2):
        now = np.log(m['scales'][stage - 1])
        for step, losses in calibration.predict(m, stage, np.log(true[stage - 1]), now).items():
            book[(stage, step)] = losses
    fitted = calibration.fit(m, book)
    before, after = log_error(m, book, m['scales']), log_error(m, book, fitted)
    assert after < 0.2 * before
    # The content divisor alone sets the content loss: it moves the way the true one lies.
    assert [np.sign(np.log(f[0] / s[0])) for f, s in zip(fitted, m['scales'])] == [1.0, 1.0]


def test_book_losses_reads_the_press_log(d2l):
    book = calibration.book_losses(os.path.join(d2l, 'press_losses.txt'))
    assert {(1, 0), (1, 450), (2, 0), (2, 250)} <= set(book)
    assert all(c >= 0 and s > 0 for c, s in book.values())
    assert book[(1, 0)][1] > book[(1, 450)][1]          # the style loss falls over stage 1


def test_main_fits_a_saved_round_and_prints_the_table(d2l, tmp_path, capsys):
    m = synthetic_round(1)
    book = calibration.book_losses(os.path.join(d2l, 'press_losses.txt'))
    for stage in ('1', '2'):       # the steps the book logged
        m['stages'][stage]['per_layer'] = {str(step): m['stages'][stage]['per_layer']['0']
                                           for (st, step) in book if str(st) == stage}
    saved = tmp_path / 'round1.json'
    saved.write_text(json.dumps(m))
    calibration.main(['--measured', str(saved), '--book', d2l, '--out', str(tmp_path / 'out')])
    table = capsys.readouterr().out.split('CAFFE_FEATURE_SCALE = ')[1]
    scales = eval(table)             # the printed dict literal, pasted into this module
    assert sorted(scales) == sorted(calibration.LAYERS)
    assert all(s1 > 0 and s2 > 0 for s1, s2 in scales.values())
