"""SRCNN training: sub-images from `data`, a gluon DataLoader, the 9-1-5 network
of `models.srcnn`, PSNR on the evaluation set after every epoch, the best
weights kept and a checkpoint written at every epoch end (so Ctrl-C loses at
most the epoch in progress).

`Session(cfg)` loads everything (bad input fails here, before a run folder
exists); `iterate(cfg, session, run_dir)` yields an `Iterate` per epoch of a resumed
run's history, then one every `log_every` batches and one per epoch with the
evaluation.
"""
import json
import os
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserError
from ..models import srcnn
from ..optim import check_finite
from .. import methods
from . import data, metrics
from .schema import label_size
from .upscale import enhance

# The paper's figures (PSNR on Y, dB), for the final table.
PAPER = {('Set5', 2): (33.66, 36.66), ('Set5', 3): (30.39, 32.75), ('Set5', 4): (28.42, 30.48),
         ('Set14', 3): (27.54, 29.30)}
# Where the shared sets live in a checkout: ../shared/datasets/sr beside the repository.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DATA = os.path.normpath(os.path.join(ROOT, '..', 'shared', 'datasets', 'sr'))


def data_root(cfg):
    """data.root, else $GLUON_NST_SR_DATA, else ../shared/datasets/sr beside the checkout."""
    root = cfg['data']['root'] or os.environ.get(data.ENV_DATA) or DEFAULT_DATA
    if not os.path.isdir(root):
        raise UserError(f'dataset folder {root} does not exist: the standard T91/Set5/Set14 are in '
                        f'../shared/datasets/sr; set ${data.ENV_DATA} or data.root to that folder')
    return root


def set_folder(root, name):
    return name if os.path.isabs(name) else os.path.join(root, name)


@dataclass
class Iterate(methods.Iterate):
    epoch: int
    batch: int                  # batches done in this epoch
    batches: int                # batches per epoch
    lr: float
    loss: float                 # mean MSE (0..1 pixels) since the last iterate
    seconds: float              # since the epoch started
    patches: int                # sub-images done since the last iterate
    psnr: float = float('nan')  # evaluation set, at an epoch's end
    best: float = float('nan')
    bicubic: float = float('nan')
    image: object = None        # uint8 RGB of the first sheet image, at an epoch's end
    end: bool = False
    index: int = 0              # iterate within the epoch (0: includes building the graph)
    epoch_patches: int = 0      # sub-images done since the epoch started
    resumed: bool = False       # an epoch of the run this one resumes (its history)

    PHASE = 'epoch'

    @property
    def bicubic_psnr(self):
        return self.bicubic if self.end else None

    @property
    def best_psnr(self):
        return self.best

    @property
    def patches_per_s(self):
        return None if self.resumed else self.epoch_patches / max(self.seconds, 1e-9)


@dataclass
class Evaluation:
    set_name: str
    names: list
    bicubic: list
    srcnn: list
    images: dict = field(default_factory=dict)     # name -> (bicubic, srcnn, truth) uint8 RGB

    @property
    def mean_bicubic(self):
        return float(np.mean(self.bicubic))

    @property
    def mean_srcnn(self):
        return float(np.mean(self.srcnn))


class Session:
    """Everything a training run needs, loaded and checked."""

    def __init__(self, cfg):
        import mxnet as mx

        from ..runtime import configure_threads, context
        self.cfg = cfg
        self.threads = configure_threads(cfg['threads'])
        self.ctx = context(cfg['device'])
        d, self.scale = cfg['data'], cfg['scale']
        self.channels = 1 if d['color'] == 'y' else 3
        self.kernels = cfg['model']['kernels']
        self.label_size = label_size(cfg)
        root = data_root(cfg)
        files = data.list_images(set_folder(root, d['train']), 'training set')
        if d['train_limit']:
            files = files[:d['train_limit']]
        self.train_files = files
        (self.inputs, self.labels, self.skipped, self.cache_path,
         self.cached) = data.cached_patches(files, self.scale, d['input_size'], self.label_size,
                                            d['stride'], self.channels, d['degradation'])
        self.eval_set = self._test_set(root, d['eval'])
        self.test_sets = [self._test_set(root, name) for name in d['test']]
        known = {im.name for _, images in self.test_sets for im in images}
        unknown = [n for n in cfg['output']['sheet'] if n not in known]
        if unknown:
            raise UserError(f"config key 'output.sheet': {', '.join(unknown)} is not in the test "
                            f"sets ({', '.join(sorted(known))}); name images of data.test")
        self.resume = load_checkpoint(cfg) if cfg['train']['resume'] else None
        mx.random.seed(cfg['seed'])
        np.random.seed(cfg['seed'])

    def _test_set(self, root, name):
        files = data.list_images(set_folder(root, name), 'test set')
        return name, [data.TestImage(f, self.scale, self.channels, self.cfg['data']['degradation'])
                      for f in files]

    def model_meta(self):
        return dict(scale=self.scale, channels=self.channels, kernels=self.kernels,
                    color=self.cfg['data']['color'], degradation=self.cfg['data']['degradation'])


def load_checkpoint(cfg):
    folder = cfg['train']['resume']
    try:
        with open(os.path.join(folder, 'checkpoint.json')) as f:
            ck = json.load(f)
    except (OSError, ValueError) as e:
        raise UserError(f"config key 'train.resume': {folder}/checkpoint.json cannot be read ({e}): "
                        'resume from another run folder') from None
    want = dict(scale=cfg['scale'], channels=1 if cfg['data']['color'] == 'y' else 3,
                kernels=cfg['model']['kernels'])
    got = {k: ck['model'].get(k) for k in want}
    if got != want:
        raise UserError(f"config key 'train.resume': {folder} trained {got}, this config {want}: "
                        'resume with the config that run used (its config.yaml)')
    for name in ('checkpoint.params', 'checkpoint.states'):
        if not os.path.isfile(os.path.join(folder, name)):
            raise UserError(f"config key 'train.resume': {folder} lacks {name}: resume from a "
                            'run folder that finished an epoch')
    ck['folder'] = folder
    # The best weights so far, in memory: resuming into the same folder with
    # --overwrite removes its best.params before the run starts.
    ck['best_files'] = {}
    for name in (srcnn.PARAMS_FILE, srcnn.META_FILE):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            with open(path, 'rb') as f:
                ck['best_files'][name] = f.read()
    return ck


def _initialise(net, how, ctx):
    import mxnet as mx
    if how == 'paper':
        net.initialize(mx.init.Normal(0.001), ctx=ctx)
    else:
        net.initialize(mx.init.MSRAPrelu(factor_type='in', slope=0.0), ctx=ctx)
        # The linear reconstruction layer: small weights, so the first output is near 0.
        last = list(net)[-1].conv
        last.weight.initialize(mx.init.Normal(0.001), ctx=ctx, force_reinit=True)
    for p in net.collect_params('.*bias').values():
        p.initialize(mx.init.Zero(), ctx=ctx, force_reinit=True)


def build_trainer(session):
    import mxnet as mx
    from mxnet import gluon
    cfg, t = session.cfg, session.cfg['train']
    net = srcnn.build(session.channels, cfg['model']['padding'], session.kernels)
    _initialise(net, cfg['model']['init'], session.ctx)
    net(mx.nd.zeros((1, session.channels, 33, 33), ctx=session.ctx))     # shapes known
    for p in list(net)[-1].collect_params().values():
        p.lr_mult = t['last_layer_lr_mult']
    opt = dict(learning_rate=t['lr'])
    if t['optimizer'] == 'sgd':
        opt['momentum'] = 0.9
    trainer = gluon.Trainer(net.collect_params(), t['optimizer'], opt)
    net.hybridize(static_alloc=True)
    return net, trainer


def learning_rate(t, epoch, batches_done):
    """Step decay per epoch (1-based) times Keras' inverse-time decay per batch."""
    lr = t['lr']
    if t['lr_decay_epoch']:
        lr *= t['lr_decay_factor'] ** ((epoch - 1) // t['lr_decay_epoch'])
    if t['inverse_time_decay']:
        lr /= 1.0 + t['inverse_time_decay'] * batches_done
    return lr


def evaluate(net, test_set, session, keep=()):
    """PSNR on Y (border = scale shaved) of bicubic and SRCNN over one set."""
    name, images = test_set
    ev = Evaluation(name, [], [], [])
    valid = session.cfg['model']['padding'] == 'valid'
    for im in images:
        pad = srcnn.border(session.kernels) if valid else 0
        out = enhance(net, im.bicubic, session.ctx, pad)
        out = np.clip(out, 0, 1)
        ev.names.append(im.name)
        ev.bicubic.append(metrics.psnr_on_y(im.bicubic, im.label, session.scale, session.channels))
        ev.srcnn.append(metrics.psnr_on_y(out, im.label, session.scale, session.channels))
        if im.name in keep:
            ev.images[im.name] = (colour(im.bicubic, im, session.channels),
                                  colour(out, im, session.channels), im.rgb)
    return ev


def colour(image01, test_image, channels):
    """uint8 RGB of a network-space image: Y with the bicubic CbCr, or RGB as is."""
    if channels == 3:
        return metrics.quantize(image01).astype(np.uint8)
    ycc = test_image.ycc_bicubic * 255.0
    ycc[..., 0] = np.clip(np.squeeze(image01), 0, 1) * 255.0
    return np.clip(np.round(data.ycbcr2rgb(ycc)), 0, 255).astype(np.uint8)


def save_checkpoint(run_dir, net, trainer, session, state):
    """checkpoint.params / .states / .json, each written to a temporary name and moved."""
    tmp = os.path.join(run_dir, 'checkpoint.tmp')
    srcnn.save(net, tmp + '.params', {})
    trainer.save_states(tmp + '.states')
    os.replace(tmp + '.params', os.path.join(run_dir, 'checkpoint.params'))
    os.replace(tmp + '.states', os.path.join(run_dir, 'checkpoint.states'))
    with open(tmp + '.json', 'w') as f:
        json.dump(dict(state, model=session.model_meta()), f, indent=1)
    os.replace(tmp + '.json', os.path.join(run_dir, 'checkpoint.json'))
    if os.path.exists(tmp + '.json.tmp'):
        os.remove(tmp + '.json.tmp')


def save_best(run_dir, net, session, epoch, psnr):
    from ..models.store import file_hash
    path = os.path.join(run_dir, srcnn.PARAMS_FILE)
    srcnn.save(net, path, {})
    meta = dict(session.model_meta(), epoch=epoch, eval_set=session.eval_set[0], psnr=psnr,
                sha256=file_hash(path), config=session.cfg['name'])
    with open(os.path.join(run_dir, srcnn.META_FILE), 'w') as f:
        json.dump(meta, f, indent=2)


def restore_best(files, run_dir):
    for name, content in files.items():
        with open(os.path.join(run_dir, name), 'wb') as f:
            f.write(content)


def iterate(cfg, session=None, run_dir=None):
    """Train; yield an Iterate every log_every batches and one per epoch (evaluated).
    run_dir: the run folder, where best.params and the checkpoint are written."""
    import mxnet as mx
    from mxnet import autograd, gluon
    if run_dir is None:
        raise ValueError('srcnn iterate needs run_dir (best.params and checkpoints go there)')
    session = session or Session(cfg)
    t = cfg['train']
    net, trainer = build_trainer(session)
    first_epoch, best, best_epoch, batches_total = 1, -float('inf'), 0, 0
    ck = session.resume
    if ck is not None:
        srcnn.load_params(net, os.path.join(ck['folder'], 'checkpoint.params'))
        trainer.load_states(os.path.join(ck['folder'], 'checkpoint.states'))
        first_epoch, best, best_epoch = ck['epoch'] + 1, ck['best'], ck['best_epoch']
        batches_total = ck['batches_total']
        restore_best(ck['best_files'], run_dir)          # the best so far stays with the run
        np.random.seed(cfg['seed'] + ck['epoch'])        # a new shuffle, reproducible
        save_checkpoint(run_dir, net, trainer, session, ck_state(ck['epoch'], best, best_epoch,
                                                                 batches_total, ck['rows']))
    dataset = gluon.data.ArrayDataset(session.inputs, session.labels)
    loader = gluon.data.DataLoader(dataset, batch_size=t['batch_size'], shuffle=True,
                                   last_batch='discard' if len(dataset) >= t['batch_size'] else 'keep')
    batches = len(loader)
    keep = tuple(cfg['output']['sheet'])
    rows = list(ck['rows']) if ck else []
    for row in rows:                     # the history of a resumed run, as it was
        yield Iterate(row['epoch'], None, None, None, row['loss'], row['seconds'], 0, row['psnr'],
                      resumed=True)
    for epoch in range(first_epoch, t['epochs'] + 1):
        start = time.perf_counter()
        loss_sum, n_since, patches_since = mx.nd.zeros(1, ctx=session.ctx), 0, 0
        index, epoch_patches = 0, 0
        for b, (x, y) in enumerate(loader, 1):
            x, y = x.as_in_context(session.ctx), y.as_in_context(session.ctx)
            lr = learning_rate(t, epoch, batches_total)
            trainer.set_learning_rate(lr)
            with autograd.record():
                loss = ((net(x) - y) ** 2).mean()
            loss.backward()
            trainer.step(1)
            batches_total += 1
            loss_sum += loss
            n_since += 1
            patches_since += x.shape[0]
            epoch_patches += x.shape[0]
            if b % t['log_every'] == 0 and b != batches:
                value = loss_sum.asscalar() / n_since
                check_finite((value,), non_finite(value, epoch, b))
                yield Iterate(epoch, b, batches, lr, value, time.perf_counter() - start,
                              patches_since, index=index, epoch_patches=epoch_patches)
                loss_sum, n_since, patches_since = mx.nd.zeros(1, ctx=session.ctx), 0, 0
                index += 1
        value = loss_sum.asscalar() / max(n_since, 1)
        check_finite((value,), non_finite(value, epoch, batches))
        seconds = time.perf_counter() - start          # training time only
        ev = evaluate(net, session.eval_set, session, keep)
        if ev.mean_srcnn > best:             # the best weights go to disk, not into memory
            best, best_epoch = ev.mean_srcnn, epoch
            save_best(run_dir, net, session, epoch, best)
        it = Iterate(epoch, batches, batches, lr, value, seconds, patches_since, ev.mean_srcnn,
                     best, ev.mean_bicubic, image=_first_image(ev), end=True, index=index,
                     epoch_patches=epoch_patches)
        rows.append(dict(epoch=epoch, psnr=ev.mean_srcnn, loss=value, seconds=seconds))
        save_checkpoint(run_dir, net, trainer, session,
                        ck_state(epoch, best, best_epoch, batches_total, rows))
        yield it


def ck_state(epoch, best, best_epoch, batches_total, rows):
    return dict(epoch=epoch, best=best, best_epoch=best_epoch, batches_total=batches_total,
                rows=rows)


def _first_image(ev):
    for name in ev.names:
        if name in ev.images:
            return ev.images[name][1]
    return None


def non_finite(value, epoch, batch):
    return (f'the loss became {value} at epoch {epoch} batch {batch}: lower train.lr; '
            'the best weights so far are kept')


def final_evaluation(session, run_dir):
    """The best weights on every test set: [Evaluation], with the sheet images."""
    import mxnet as mx
    path = os.path.join(run_dir, srcnn.PARAMS_FILE)
    net = srcnn.build(session.channels, session.cfg['model']['padding'], session.kernels)
    net.initialize(ctx=session.ctx)
    net(mx.nd.zeros((1, session.channels, 33, 33), ctx=session.ctx))
    srcnn.load_params(net, path)
    net.hybridize(static_alloc=True)
    keep = tuple(session.cfg['output']['sheet'])
    return [evaluate(net, s, session, keep) for s in session.test_sets]


def write_table(evaluations, scale, path_md, path_csv, best_epoch=None):
    """The Set5/Set14 table: bicubic, paper, ours; and per image."""
    import csv
    lines = [f'# PSNR on Y (dB), x{scale}, border {scale} shaved'
             + (f', best weights (epoch {best_epoch})' if best_epoch else ''), '',
             '| set | scale | bicubic (ours) | bicubic (paper) | SRCNN (paper) | SRCNN (ours) |',
             '| --- | --- | --- | --- | --- | --- |']
    for ev in evaluations:
        pb, ps = PAPER.get((ev.set_name, scale), (None, None))
        fmt = (lambda v: '-' if v is None else f'{v:.2f}')
        lines.append(f'| {ev.set_name} | x{scale} | {ev.mean_bicubic:.2f} | {fmt(pb)} | {fmt(ps)} | '
                     f'{ev.mean_srcnn:.2f} |')
    lines += ['', '| set | image | bicubic | SRCNN | gain |', '| --- | --- | --- | --- | --- |']
    with open(path_csv, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['set', 'image', 'scale', 'bicubic_psnr', 'srcnn_psnr'])
        for ev in evaluations:
            for n, b, s in zip(ev.names, ev.bicubic, ev.srcnn):
                w.writerow([ev.set_name, n, scale, f'{b:.4f}', f'{s:.4f}'])
                lines.append(f'| {ev.set_name} | {n} | {b:.2f} | {s:.2f} | {s - b:+.2f} |')
            w.writerow([ev.set_name, 'mean', scale, f'{ev.mean_bicubic:.4f}', f'{ev.mean_srcnn:.4f}'])
    with open(path_md, 'w') as f:
        f.write('\n'.join(lines) + '\n')
