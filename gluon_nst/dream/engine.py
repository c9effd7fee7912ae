"""The engine: a generator of iterates, one per gradient-ascent step, the image
at the end of each octave.

`make_step` is Google's `make_step`: roll the image by a random jitter, take the
objective's gradient, step along it normalised (mean |g| or std), clip, roll
back.  `dream` runs the steps over the octaves (octaves.py) and `Session`
loads what a config needs, refusing bad input before any work.
"""
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from .. import image_io, imaging, methods, runtime
from ..errors import UserError
from ..models import features
from ..optim import check_finite
from . import octaves as oct_mod
from .schema import layers_for, use_onednn

# Bytes per pixel of the image's own buffers (image, gradient, octave bases, detail),
# beside the network's pass (features.Network.bytes_per_pixel).
IMAGE_BYTES_PER_PIXEL = 40
EPS = 1e-8


@dataclass
class Iterate(methods.Iterate):
    octave: int           # 1-based
    step: int             # 0-based within the octave
    height: int
    width: int
    objective: float
    grad_scale: float     # mean |g| or std of the gradient: what the step divided by
    seconds: float        # since the octave started
    image: object = None  # (H, W, 3) float RGB 0..255 at the octave's end (or save_every)
    end: bool = False     # the octave's last step
    PHASE, INDEX = 'octave', 'step'


def make_step(img, grad_fn, step_size, normalize='mean_abs', jitter=0, clip=True, rng=None):
    """One gradient-ascent step.  grad_fn(rgb) -> (objective, gradient in pixels)."""
    oy, ox = (rng.randint(-jitter, jitter + 1, 2) if jitter else (0, 0))
    rolled = np.roll(np.roll(img, ox, axis=1), oy, axis=0)
    value, g = grad_fn(rolled)
    scale = float(np.abs(g).mean() if normalize == 'mean_abs' else g.std())
    rolled = rolled + np.float32(step_size / (scale + EPS)) * g
    if clip:
        np.clip(rolled, 0.0, 255.0, out=rolled)
    return np.roll(np.roll(rolled, -ox, axis=1), -oy, axis=0), value, scale


def octave_sizes(size, oct_cfg):
    """(width, height) of each octave, in the order dreamt."""
    if oct_cfg['mode'] == 'pyramid':
        return oct_mod.pyramid_sizes(size, oct_cfg['n'], oct_cfg['scale'])
    return oct_mod.power_sizes(size, oct_cfg['powers'], oct_cfg['scale'])


def dream(base, oct_cfg, steps, step_fn, save_every=0):
    """Yield an Iterate per step over the octaves.  step_fn(img) -> (img, objective,
    grad_scale).  The last Iterate's image is the result (the cookbook's powers: back
    at the base size).  A non-finite objective raises optim.NonFiniteLoss with the
    last good image."""
    base = np.asarray(base, dtype=np.float32)
    sizes = octave_sizes(base.shape[1::-1], oct_cfg)
    if oct_cfg['mode'] == 'pyramid':
        bases = oct_mod.pyramid(base, oct_cfg['n'], oct_cfg['scale'])[::-1]
        detail = np.zeros_like(bases[0])
    img = base
    for k, size in enumerate(sizes):
        if oct_cfg['mode'] == 'pyramid':
            img = oct_mod.carry_detail(detail, bases[k])
        else:
            img = oct_mod.resize(img, size)
        start = time.perf_counter()
        for i in range(steps):
            good = img                  # a step returns a new array: no copy needed
            img, value, scale = step_fn(img)
            check_finite((value, scale), f'octave {k + 1}: the objective became non-finite at step '
                         f'{i}; lower step_size (the last good image was kept)', good)
            last = i == steps - 1
            out = None
            if last or (save_every and (i + 1) % save_every == 0):
                out = img
                if last and k == len(sizes) - 1 and oct_cfg['mode'] == 'powers':
                    out = oct_mod.resize(img, base.shape[1::-1])
            yield Iterate(k + 1, i, height=size[1], width=size[0], objective=value, grad_scale=scale,
                          seconds=time.perf_counter() - start, image=out, end=last)
        if oct_cfg['mode'] == 'pyramid':
            detail = img - bases[k]


def fit_longest(rgb, side):
    """RGB uint8 resized so its longest side is `side` (Pillow bilinear); None: as is."""
    size = imaging.fit_size(rgb.shape[1::-1], side)
    if size == rgb.shape[1::-1]:
        return rgb
    from PIL import Image
    return np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR))


class Session:
    """Everything a dream needs, loaded and checked before any step."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.threads = runtime.configure_threads(cfg['threads'])   # before MXNet is imported
        if 'mxnet' not in sys.modules:          # read once, at import (bench: --onednn)
            os.environ['MXNET_MKLDNN_ENABLED'] = '1' if use_onednn(cfg['onednn']) else '0'
            os.environ.setdefault('MXNET_STORAGE_FALLBACK_LOG_VERBOSE', '0')
        self.onednn = os.environ.get('MXNET_MKLDNN_ENABLED', '1') != '0'
        import mxnet as mx

        self.ctx = runtime.context(cfg['device'])
        self.network = features.network(cfg['network'])
        self.layers = self.network.resolve(layers_for(cfg))
        self.source = image_io.read_rgb(cfg['image'], 'image')
        self.input = fit_longest(self.source, cfg['longest_side'])
        self.guide = None
        if cfg['objective'] == 'guide':
            self.guide = fit_longest(image_io.read_rgb(cfg['guide_image'], 'guide image'),
                                     cfg['guide_longest_side'])
        self.sizes = octave_sizes(self.input.shape[1::-1], cfg['octaves'])
        self.tile, self.margin = cfg['tile_size'], cfg['tile_margin']
        self._check_sizes()
        self.net = features.load(cfg['network'], self.layers, path=cfg['weights']['path'],
                                 source=cfg['weights']['source'], ctx=self.ctx)
        from .objective import Objective, guide_features
        guide = guide_features(self.net, self.guide) if self.guide is not None else None
        self.objective = Objective(self.net, cfg['objective'], cfg['layer_weights'], guide)
        self.rng = np.random.RandomState(cfg['seed'])
        mx.random.seed(cfg['seed'])

    def _check_sizes(self):
        oc = self.cfg['octaves']
        need = self.network.min_side(self.layers)
        w, h = self.input.shape[1::-1]
        small = min(self.sizes, key=min)
        if min(small) < need:
            if oc['mode'] == 'pyramid':
                fit = max(k for k in range(1, oc['n'] + 1)
                          if min(oct_mod.pyramid_sizes((w, h), k, oc['scale'])[0]) >= need)
                factor = oc['scale'] ** (oc['n'] - 1)
                what, fix = f"{oc['n']} octaves at scale {oc['scale']:g}", f'octaves.n: {fit}'
            else:
                factor = oc['scale'] ** -min(oc['powers'])
                what, fix = f"power {min(oc['powers']):g} at scale {oc['scale']:g}", \
                    'larger powers in octaves.powers'
            short = int(np.ceil(need * factor))
            raise UserError(f'image {w}x{h} is too small for {what}: the smallest octave would be '
                            f'{small[0]}x{small[1]}, below the {need} pixels a side that '
                            f'{self.network.deepest(self.layers)} needs; use an image whose '
                            f'shorter side is at least {short} pixels (longest_side), or {fix}')
        big = max(self.sizes, key=lambda s: s[0] * s[1])
        per_pixel = self.network.bytes_per_pixel
        if self.tile:
            pixels = imaging.largest_crop_pixels(imaging.tiles(big, self.tile, self.margin))
            what, fix = f'in tiles of {self.tile}', 'use a smaller tile_size'
        else:
            pixels = big[0] * big[1]
            what = 'as one whole-image gradient'

            def fix(avail):
                side = imaging.tile_for_memory(avail, per_pixel, 0.8, 64, 256)
                return f'set tile_size (e.g. tile_size: {side})'
        imaging.check_memory(f'the largest octave ({big[0]}x{big[1]}) {what}',
                             per_pixel * pixels + IMAGE_BYTES_PER_PIXEL * big[0] * big[1], fix, self.ctx)

    def grad_fn(self, size):
        """rgb -> (objective, gradient in pixels) at size (width, height), in tiles if
        configured."""
        norms = self.objective.norms(size)
        crops = imaging.tiles(size, self.tile, self.margin) if imaging.needs_tiles(size, self.tile) \
            else None

        def fn(rgb):
            value, g = self.objective.gradient(self.net.to_input(rgb), norms, crops)
            return value, self.net.to_pixels(g)
        return fn

    def step_fn(self):
        cfg, cache = self.cfg, {}

        def fn(img):
            size = img.shape[1::-1]
            if size not in cache:
                cache[size] = self.grad_fn(size)
            return make_step(img, cache[size], cfg['step_size'], cfg['normalize'], cfg['jitter'],
                             cfg['clip'], self.rng)
        return fn


def iterate(cfg, session=None):
    s = session or Session(cfg)
    yield from dream(s.input, cfg['octaves'], cfg['steps'], s.step_fn(),
                     cfg['output']['save_every'])
