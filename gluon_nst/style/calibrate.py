"""The fit of the per-layer feature divisors that give the Caffe VGG-19 the book's loss
balance (`python scripts/calibrate.py`, `main` here); the fitted table itself is in
gluon_nst.style.calibration.

The book's loss weights belong to the MXNet model zoo's VGG-19, whose
features are about 100x smaller than the Caffe weights' (see the manual,
docs/reproducing.md, "Calibration"), distributed differently over the layers, and the two networks'
features do not grow alike with resolution.  Features divided by s_l give content
losses divided by s_c^2 and style losses divided by s_l^4.  The fit finds, for each
of the book's two stage sizes (300x200 and 1200x800), a content divisor (layer 25)
and five style divisors (layers 0, 5, 10, 19, 28) such that our run of
configs/rainier.yaml logs the book's losses (press_losses.txt).

One round:
  * measures: runs stage 1 (500 steps) and the first `--stage2-steps` steps of
    stage 2 with the current scales, and at every logged step (0, 50, ...)
    the unweighted content loss D_c and per-layer style losses D_l of the
    image (saved to DIR/round<N>.json);
  * fits: the logged value of a term is w * D with w = 1/s_c^2 (content) or
    1e3/s_l^4 (style).  Step 0 of a stage does not depend on the stage's own
    weights; at later steps Adam answers a heavier weight with a smaller D,
    modelled as D ~ (w / w_other)^-beta (beta = 0.34: measured, a content
    divisor s moves stage 1's logged content with s^-1.32).  The twelve log
    divisors are solved by least squares on log(ours / book), step-0 terms
    weighted 5x the later ones (targets: step 0 within 5%, later within
    30%), pulled towards the divisors just measured (ANCHOR: a trust region,
    the model is local) and each stage-2 divisor towards its stage-1 value
    (TIE).  Stage 2's step 0 also depends on the stage-1 result, which the
    next round measures again.
The model is local, so a second round, measured with the first round's
scales, checks and refines it.
"""
import argparse
import json
import os

from .calibration import CAFFE_FEATURE_SCALE

D2L_CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          'configs', 'rainier.yaml')
STYLE, CONTENT = [0, 5, 10, 19, 28], 25
LAYERS = [CONTENT] + STYLE
BETA = 0.34
STEP0_WEIGHT, LATER_WEIGHT, TIE, ANCHOR = 30.0, 6.0, 0.3, 2.0


def per_layer(net, x, content_x, style_x, hw):
    """Unweighted content MSE and per-layer style MSE (book Gram) of image x."""
    import mxnet as mx

    from ..models.vgg19 import feature_shape
    from .losses import Gram, gram_normaliser

    def feats(img):
        out, f = {}, img
        for i, layer in enumerate(net):
            f = layer(f)
            out[i] = f
            if i >= max(STYLE):
                break
        return out
    fx, fc, fs = feats(x), feats(content_x), feats(style_x)
    d_c = float(mx.nd.mean(mx.nd.square(fx[CONTENT] - fc[CONTENT])).asscalar())
    d_s = []
    for i in STYLE:
        g = Gram(gram_normaliser('chw', *feature_shape(i, *hw)))
        d_s.append(float(mx.nd.mean(mx.nd.square(g(fx[i]) - g(fs[i]))).asscalar()))
    return d_c, d_s


def book_losses(path):
    out = {}
    with open(path) as f:
        for line in f:
            if line.strip() and not line.startswith('#'):
                st, step, c, s, _ = line.split()
                out[(int(st), int(step))] = (float(c), float(s))
    return out


def measure(config_path, scales, stage2_steps, weights=None):
    """Per-layer unweighted losses at every 50th step; scales[k] for stage k+1."""
    from .. import config, image_io
    from ..errors import UserError
    from . import engine
    from .objective import Objective, compile_objective
    from .optimize import adam_stage
    from .schedule import hand_over
    extra = [('weights.path', weights)] if weights else []
    cfg = config.load(config_path, extra)
    session = engine.Session(cfg)
    if len(session.stages) != 2 or cfg['optimizer']['name'] != 'adam' or \
            any(st.style_longest_side for st in session.stages):
        raise UserError(f'{config_path}: calibration follows the book\'s recipe: two Adam '
                        'stages, the style image stretched to each stage (use configs/rainier.yaml)')
    stages = session.stages[:2]
    stages[1].steps = min(stages[1].steps, stage2_steps)
    out, x = dict(scales=[list(s) for s in scales], stages={}), None
    for stage, stage_scales in zip(stages, scales):
        c = config.load(config_path, extra + [('weights.feature_scale', list(stage_scales))])
        spec = engine.loss_spec(c['layers'], c['loss'], c['weights'])
        x = session.initial_image(stage) if x is None else \
            hand_over(x, stage, session.convention, session.ctx)
        cx = image_io.preprocess(session.content, stage.shape, session.convention, session.ctx)
        sx = image_io.preprocess(session.style, stage.shape, session.convention, session.ctx)
        objective = Objective(session.features, spec, stage.shape)
        targets = objective.targets(cx, sx)
        compile_objective(objective)
        hw = (stage.height, stage.width)
        logged = set(range(50, stage.steps + 1, 50))
        rec = {0: per_layer(session.features, x, cx, sx, hw)}
        log = {}
        for it in adam_stage(objective, targets, x, stage, cfg['optimizer'], sync_every=10,
                             force_sync={k - 1 for k in logged}):
            if it.step % 50 == 0:
                log[it.step] = (it.content, it.style)
            if it.image is not None:
                x = it.image
                if it.step + 1 in logged:     # the image after step i is step i+1's
                    rec[it.step + 1] = per_layer(session.features, x, cx, sx, hw)
        out['stages'][stage.index] = dict(
            per_layer={k: dict(content=v[0], style=v[1]) for k, v in rec.items()},
            logged=log)
        print(f'  stage {stage.index} measured ({stage.width}x{stage.height}, '
              f'{stage.steps} steps)', flush=True)
        del objective, targets
    return out


def predict(m, stage, log_s, log_s_measured):
    """Logged (content, style) at each measured step under log divisors log_s."""
    import numpy as np
    lw0 = np.concatenate([[-2 * log_s_measured[0]], np.log(1e3) - 4 * log_s_measured[1:]])
    lw = np.concatenate([[-2 * log_s[0]], np.log(1e3) - 4 * log_s[1:]])
    out = {}
    for step, d in m['stages'][str(stage)]['per_layer'].items():
        step = int(step)
        dc, ds = d['content'], np.array(d['style'])
        beta = 0.0 if step == 0 else BETA
        share = np.exp(lw0[1:]) * ds
        share = share / share.sum()
        # A style layer answers its weight relative to content's, content its
        # weight relative to the style layers' (averaged by their share).
        ds = ds * np.exp(-beta * ((lw[1:] - lw[0]) - (lw0[1:] - lw0[0])))
        dc = dc * np.exp(-beta * ((lw[0] - share @ lw[1:]) - (lw0[0] - share @ lw0[1:])))
        out[step] = (float(np.exp(lw[0]) * dc), float(np.exp(lw[1:]) @ ds))
    return out


def fit(m, book):
    import numpy as np
    from scipy.optimize import least_squares
    measured = [np.log(np.array(s, dtype=float)) for s in m['scales']]

    def resid(p):
        r = []
        for stage in (1, 2):
            log_s = p[6 * (stage - 1):6 * stage]
            for step, (c, s) in predict(m, stage, log_s, measured[stage - 1]).items():
                if (stage, step) not in book:
                    continue
                bc, bs = book[(stage, step)]
                w = STEP0_WEIGHT if step == 0 else LATER_WEIGHT
                if bc > 0:
                    r.append(w * np.log(c / bc))
                r.append(w * np.log(s / bs))
        r += list(TIE * (p[:6] - p[6:]))
        r += list(ANCHOR * (p - np.concatenate(measured)))
        return np.array(r)
    p = least_squares(resid, np.concatenate(measured)).x
    return [list(np.exp(p[:6])), list(np.exp(p[6:]))]


def report(m, book, new_scales):
    import numpy as np
    for stage in (1, 2):
        now = np.log(m['scales'][stage - 1])
        ours = predict(m, stage, now, now)
        pred = predict(m, stage, np.log(new_scales[stage - 1]), now)
        for step in sorted(ours):
            if (stage, step) in book:
                bc, bs = book[(stage, step)]
                print(f'  {stage} {step:3d}  content book {bc:6.2f} ours {ours[step][0]:6.2f} '
                      f'next {pred[step][0]:6.2f}   style book {bs:7.2f} ours {ours[step][1]:7.2f} '
                      f'next {pred[step][1]:7.2f}')


def main(argv=None):
    """`python scripts/calibrate.py`: the fit, printing the table for CAFFE_FEATURE_SCALE."""
    ap = argparse.ArgumentParser(prog='python scripts/calibrate.py',
                                 description='Fit Caffe VGG-19 feature scales to the book.')
    ap.add_argument('--config', default=D2L_CONFIG)
    ap.add_argument('--weights', default=None, help='weights file or folder')
    ap.add_argument('--book', default=None, help='folder of press_losses.txt (default: ../shared/d2l)')
    ap.add_argument('--rounds', type=int, default=2)
    ap.add_argument('--stage2-steps', type=int, default=100)
    ap.add_argument('--out', default='runs/calibrate', help='folder for the measurements')
    ap.add_argument('--measured', default=None, help='fit a saved round<N>.json, no run')
    a = ap.parse_args(argv)
    from .. import config
    from .compare import find_book_dir
    book_dir = find_book_dir(config.load(a.config), a.book)
    book = book_losses(os.path.join(book_dir, 'press_losses.txt'))
    os.makedirs(a.out, exist_ok=True)
    scales = [[CAFFE_FEATURE_SCALE[i][k] for i in LAYERS] for k in (0, 1)]
    for rnd in range(1, a.rounds + 1):
        if a.measured:
            with open(a.measured) as f:
                m = json.load(f)
        else:
            print(f'round {rnd}: scales {scales}', flush=True)
            m = json.loads(json.dumps(measure(a.config, scales, a.stage2_steps, a.weights)))
            with open(os.path.join(a.out, f'round{rnd}.json'), 'w') as f:
                json.dump(m, f, indent=1)
        scales = fit(m, book)
        report(m, book, scales)
        if a.measured:
            break
    print('\nCAFFE_FEATURE_SCALE = {' + ', '.join(
        f'{i}: ({s1:.3f}, {s2:.3f})' for i, s1, s2 in zip(LAYERS, *scales)) + '}')
