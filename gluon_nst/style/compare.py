"""Reproduction report: a run against the book's logged losses and figures.

Writes `report.md` and `report.png` into the run folder: the losses side by
side with press_losses.txt at the book's logged steps, and each stage image
against the printed figure (PSNR, and a VGG Gram-statistics distance).
"""
import csv
import math
import os

import numpy as np
import yaml

from ..errors import UserError

FIGURES = {1: 'neural-style-1.png', 2: 'neural-style-2.png'}
# The press edition's recipe: the book's logs and figures belong to these settings.
BOOK_STAGES = [dict(image_shape=[300, 200], steps=500, lr=0.01, lr_decay_epoch=200),
               dict(image_shape=[1200, 800], steps=300, lr=0.01, lr_decay_epoch=100)]
BOOK_LOSS = dict(content_weight=1, style_weight=1000, tv_weight=10)
BOOK_LAYERS = dict(content=[25], style=[0, 5, 10, 19, 28])


def differences_from_book(cfg):
    """The settings of a run that differ from the book's recipe, as short texts."""
    out = []
    stages = cfg['stages']
    if len(stages) != len(BOOK_STAGES):
        noun = 'stage' if len(stages) == 1 else 'stages'
        out.append(f'{len(stages)} {noun} instead of {len(BOOK_STAGES)}')
    for i, (st, book) in enumerate(zip(stages, BOOK_STAGES), start=1):
        for k, v in book.items():
            if st.get(k) != v and not (isinstance(v, float) and st.get(k) is not None
                                       and math.isclose(st[k], v)):
                out.append(f'stage {i} {k} {st.get(k)} (book: {v})')
    for k, v in BOOK_LOSS.items():
        if not math.isclose(cfg['loss'][k], v):
            out.append(f'{k} {cfg["loss"][k]} (book: {v})')
    for k, v in BOOK_LAYERS.items():
        if cfg['layers'][k] != v:
            out.append(f'{k} layers {cfg["layers"][k]} (book: {v})')
    return out


def read_book_losses(path):
    rows = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            st, step, c, s, tv = line.split()
            rows[(int(st), int(step))] = (float(c), float(s), float(tv))
    return rows


def read_run_losses(run_dir):
    with open(os.path.join(run_dir, 'losses.csv')) as f:
        return {(int(r['stage']), int(r['step'])):
                (float(r['content']), float(r['style']), float(r['tv'])) for r in csv.DictReader(f)}


def ratio_text(ours, book):
    """ours / book for the report; '-' where both print as 0.00 (e.g. the content term at
    step 0, which is float noise in our run and 0 in the book's)."""
    if f'{book:.2f}' == f'{ours:.2f}' == '0.00' or (book == 0 and ours == 0):
        return '-'
    return f'{ours / book:.3f}' if book else 'inf'


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def find_book_dir(cfg, given=None):
    shared = os.environ.get('GLUON_NST_SHARED')
    candidates = [given, shared and os.path.join(shared, 'd2l'), os.path.dirname(cfg['content_image'])]
    for c in candidates:
        if c and os.path.isfile(os.path.join(c, 'press_losses.txt')):
            return c
    raise UserError('the book\'s losses and figures (press_losses.txt, book/) were not found: '
                    'pass --book ../shared/d2l')


def gram_distances(cfg, images):
    """Relative Frobenius distance of style-layer Grams between image pairs."""
    from ..image_io import preprocess
    from ..models import get_model
    from ..models.vgg19 import feature_shape
    from .engine import loss_spec
    from .losses import Gram, gram_normaliser
    spec = loss_spec(cfg['layers'], cfg['loss'], cfg['weights'])
    layers = spec['style_layers'] or spec['content_layers']
    net, _ = get_model('vgg19', source=cfg['weights']['source'], path=cfg['weights']['path'],
                       depth=max(layers) + 1, convention=cfg['preprocess']['convention'])
    out = []
    for ours, book in images:
        h, w = book.shape[:2]
        dists, feats = [], []
        for img in (ours, book):
            x = preprocess(img, (w, h), cfg['preprocess']['convention'])
            f, grams = x, []
            for i, layer in enumerate(net):
                f = layer(f)
                if i in layers:
                    c, fh, fw = feature_shape(i, h, w)
                    grams.append(Gram(gram_normaliser('chw', c, fh, fw))(f).asnumpy())
                if i >= max(layers):
                    break
            feats.append(grams)
        for ga, gb in zip(*feats):
            dists.append(float(np.linalg.norm(ga - gb) / np.linalg.norm(gb)))
        out.append(dists)
    return layers, out


def compare_run(run_dir, book_dir=None):
    from PIL import Image

    from .. import config as config_mod
    cfg_path = os.path.join(run_dir, 'config.yaml')
    if not os.path.isfile(cfg_path):
        raise UserError(f'{run_dir} is not a run folder (no config.yaml): give the folder '
                        'train.py wrote')
    cfg = config_mod.load(data=yaml.safe_load(open(cfg_path)))
    book = find_book_dir(cfg, book_dir)
    ref = read_book_losses(os.path.join(book, 'press_losses.txt'))
    ours = read_run_losses(run_dir)
    lines = [f'# Reproduction report: {os.path.basename(os.path.abspath(run_dir))}', '',
             f'Book: `{book}` (press edition).  Ratios are ours / book.', '']
    differs = differences_from_book(cfg)
    if differs:
        lines += ['**This run is not the book\'s recipe** (' + '; '.join(differs) + '): its '
                  'losses and images are set beside the book\'s, but are not expected to '
                  'match.', '']
    lines += [
             '## Losses at the book\'s logged steps', '',
             '| stage | step | content book | content ours | ratio | style book | style ours | '
             'ratio | tv book | tv ours | ratio |', '|' + '---|' * 11]
    worst = {}
    for key in sorted(ref):
        if key not in ours:
            continue
        b, o = ref[key], ours[key]
        cells = []
        for k, (bv, ov) in enumerate(zip(b, o)):
            cells += [f'{bv:.2f}', f'{ov:.2f}', ratio_text(ov, bv)]
            kind = 'step0' if key[1] == 0 else 'later'
            if bv:
                worst[kind] = max(worst.get(kind, 0.0), abs(ov / bv - 1))
        lines.append(f'| {key[0]} | {key[1]} | ' + ' | '.join(cells) + ' |')

    def largest(kind, what):
        return f'{what} {100 * worst[kind]:.1f}%' if kind in worst else f'no {what} in this run'
    lines += ['', f'Largest relative difference: {largest("step0", "step 0 of a stage")}, '
              f'{largest("later", "later logged steps")}.', '',
              '## Images against the printed figures', '',
              '| stage | figure | PSNR (dB) | Gram distance per style layer (rel. Frobenius) |',
              '|---|---|---|---|']
    pairs, names = [], []
    for stage, fig in FIGURES.items():
        ours_png = os.path.join(run_dir, f'stage{stage}.png')
        fig_png = os.path.join(book, 'book', fig)
        if not (os.path.isfile(ours_png) and os.path.isfile(fig_png)):
            continue
        b = np.asarray(Image.open(fig_png).convert('RGB'))
        o = np.asarray(Image.open(ours_png).convert('RGB'))
        if o.shape != b.shape:
            o = np.asarray(Image.fromarray(o).resize((b.shape[1], b.shape[0]), Image.BILINEAR))
        pairs.append((o, b))
        names.append((stage, fig))
    metrics = {}
    if pairs:
        layers, dists = gram_distances(cfg, pairs)
        for (stage, fig), (o, b), d in zip(names, pairs, dists):
            p = psnr(o, b)
            metrics[stage] = dict(psnr=p, gram=d)
            lines.append(f'| {stage} | {fig} | {p:.2f} | ' + ', '.join(
                f'L{layer}: {v:.3f}' for layer, v in zip(layers, d)) + ' |')
    report = os.path.join(run_dir, 'report.md')
    with open(report, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    _report_png(run_dir, ref, ours, pairs, names, metrics)
    return report


def _report_png(run_dir, ref, ours, pairs, names, metrics):
    from ..plots import subplots

    from ..plots import meaningful
    n = len(pairs)
    fig, axes = subplots(1 + n, 2, figsize=(10, 3.6 * (1 + n)), squeeze=False)
    for k, name in enumerate(('content', 'style')):
        ax = axes[0][k]
        for stage, color in ((1, 'C0'), (2, 'C1')):
            steps = sorted(s for (st, s) in ours if st == stage)
            if steps:
                ax.plot(steps, meaningful([ours[(stage, s)][k] for s in steps]), color=color,
                        lw=1, label=f'ours, stage {stage}')
            bs = sorted(s for (st, s) in ref if st == stage)
            ax.plot(bs, meaningful([ref[(stage, s)][k] for s in bs]), 'o', color=color, ms=4,
                    label=f'book, stage {stage}')
        ax.set_yscale('log')
        ax.set_title(f'{name} loss')
        ax.set_xlabel('step')
        ax.legend(fontsize=7)
    for row, ((o, b), (stage, fig_name)) in enumerate(zip(pairs, names), start=1):
        axes[row][0].imshow(b)
        axes[row][0].set_title(f'book {fig_name}')
        axes[row][1].imshow(o)
        axes[row][1].set_title(f'ours, stage {stage}: PSNR {metrics[stage]["psnr"]:.1f} dB')
        for ax in axes[row]:
            ax.axis('off')
    fig.tight_layout()
    fig.savefig(os.path.join(run_dir, 'report.png'), dpi=90)
