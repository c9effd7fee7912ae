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

from .. import image_io, methods, runtime
from ..errors import UserError
from . import octaves as oct_mod
from . import tiles as tiles_mod
from .schema import layers_for

# Peak bytes per input pixel of one whole-image step (activations kept for the
# backward, gradients, image buffers): GoogLeNet to inception_4c/output measured
# 1.1 KB/pixel (peak RSS 519, 1153, 2179 MB at 512x384, 1024x768, 1536x1152; bench.py's
# child), kept with a margin; VGG-19 from the style method's 4.6 KB/pixel.
BYTES_PER_PIXEL = {'googlenet': 1400, 'vgg19': 5000}
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


def octave_sizes(hw, oct_cfg):
    if oct_cfg['mode'] == 'pyramid':
        return oct_mod.pyramid_sizes(hw, oct_cfg['n'], oct_cfg['scale'])
    return oct_mod.power_sizes(hw, oct_cfg['powers'], oct_cfg['scale'])


def dream(base, oct_cfg, steps, step_fn, save_every=0):
    """Yield an Iterate per step over the octaves.  step_fn(img) -> (img, objective,
    grad_scale).  The last Iterate's image is the result (the cookbook's powers: back
    at the base size)."""
    base = np.asarray(base, dtype=np.float32)
    sizes = octave_sizes(base.shape[:2], oct_cfg)
    if oct_cfg['mode'] == 'pyramid':
        bases = oct_mod.pyramid(base, oct_cfg['n'], oct_cfg['scale'])[::-1]
        detail = np.zeros_like(bases[0])
    img = base
    for k, hw in enumerate(sizes):
        if oct_cfg['mode'] == 'pyramid':
            img = oct_mod.carry_detail(detail, bases[k])
        else:
            img = oct_mod.resize(img, hw)
        start = time.perf_counter()
        for i in range(steps):
            img, value, scale = step_fn(img)
            last = i == steps - 1
            out = None
            if last or (save_every and (i + 1) % save_every == 0):
                out = img
                if last and k == len(sizes) - 1 and oct_cfg['mode'] == 'powers':
                    out = oct_mod.resize(img, base.shape[:2])
            yield Iterate(k + 1, i, hw[0], hw[1], value, scale, time.perf_counter() - start,
                          image=out, end=last)
        if oct_cfg['mode'] == 'pyramid':
            detail = img - bases[k]


def fit_longest(rgb, side):
    """RGB uint8 resized so its longest side is `side` (Pillow bilinear); None: as is."""
    if not side or max(rgb.shape[:2]) == side:
        return rgb
    from PIL import Image
    h, w = rgb.shape[:2]
    f = side / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR))


class Session:
    """Everything a dream needs, loaded and checked before any step."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.threads = runtime.configure_threads(cfg['threads'])   # before MXNet is imported
        if 'mxnet' not in sys.modules:          # read once, at import (bench: --onednn)
            os.environ['MXNET_MKLDNN_ENABLED'] = '1' if cfg['onednn'] else '0'
            os.environ.setdefault('MXNET_STORAGE_FALLBACK_LOG_VERBOSE', '0')
        self.onednn = os.environ.get('MXNET_MKLDNN_ENABLED', '1') != '0'
        import mxnet as mx

        from .nets import DreamNet, resolve_layers
        self.ctx = runtime.context(cfg['device'])
        self.layers = resolve_layers(cfg['network'], layers_for(cfg))
        self.source = image_io.read_rgb(cfg['image'], 'image')
        self.input = fit_longest(self.source, cfg['longest_side'])
        self.guide = None
        if cfg['objective'] == 'guide':
            self.guide = fit_longest(image_io.read_rgb(cfg['guide_image'], 'guide image'),
                                     cfg['guide_longest_side'])
        self.sizes = octave_sizes(self.input.shape[:2], cfg['octaves'])
        self.tile, self.margin = cfg['tile_size'], cfg['tile_margin']
        self._check_sizes()
        self.net = DreamNet(cfg['network'], self.layers, cfg['weights']['path'],
                            cfg['weights']['source'], self.ctx)
        from .objective import Objective, guide_features
        guide = guide_features(self.net, self.guide) if self.guide is not None else None
        self.objective = Objective(self.net, cfg['objective'], cfg['layer_weights'], guide)
        self.rng = np.random.RandomState(cfg['seed'])
        mx.random.seed(cfg['seed'])

    def _check_sizes(self):
        cfg, oc = self.cfg, self.cfg['octaves']
        from .nets import deepest, min_side
        need = min_side(cfg['network'], self.layers)
        h, w = self.input.shape[:2]
        small = min(self.sizes, key=min)
        if min(small) < need:
            if oc['mode'] == 'pyramid':
                fit = max(k for k in range(1, oc['n'] + 1)
                          if min(oct_mod.pyramid_sizes((h, w), k, oc['scale'])[0]) >= need)
                factor = oc['scale'] ** (oc['n'] - 1)
                what, fix = f"{oc['n']} octaves at scale {oc['scale']:g}", f'octaves.n: {fit}'
            else:
                factor = oc['scale'] ** -min(oc['powers'])
                what, fix = f"power {min(oc['powers']):g} at scale {oc['scale']:g}", \
                    'larger powers in octaves.powers'
            short = int(np.ceil(need * factor))
            raise UserError(f'image {w}x{h} is too small for {what}: the smallest octave would be '
                            f'{small[1]}x{small[0]}, below the {need} pixels a side that '
                            f'{deepest(cfg["network"], self.layers)} needs; use an image whose '
                            f'shorter side is at least {short} pixels (longest_side), or {fix}')
        big = max(self.sizes, key=lambda s: s[0] * s[1])
        if self.ctx.device_type != 'cpu':
            return
        avail = runtime.available_memory_bytes()
        per_px = BYTES_PER_PIXEL[cfg['network']]
        if self.tile:
            crops = tiles_mod.tiles(big[0], big[1], self.tile, self.margin)
            pixels = max((c[1] - c[0]) * (c[3] - c[2]) for _, c in crops)
        else:
            pixels = big[0] * big[1]
        need_bytes = per_px * pixels + 40 * big[0] * big[1]     # + the image's own buffers
        if avail and need_bytes > avail:
            if self.tile:
                fix = 'use a smaller tile_size'
            else:
                fit = int((0.8 * avail / per_px) ** 0.5) // 64 * 64
                fix = f'set tile_size (e.g. tile_size: {max(256, min(1024, fit))})'
            raise UserError(f'the largest octave ({big[1]}x{big[0]}) needs about '
                            f'{need_bytes / 2**30:.1f} GiB for a whole-image gradient but '
                            f'{avail / 2**30:.1f} GiB is free: {fix}')

    def grad_fn(self, hw):
        """rgb -> (objective, gradient in pixels) at size hw, in tiles if configured."""
        norms = self.objective.norms(*hw)

        def fn(rgb):
            value, g = tiles_mod.gradient(self.objective, self.net.to_input(rgb), norms,
                                          self.tile, self.margin)
            return value, self.net.to_pixels(g)
        return fn

    def step_fn(self):
        cfg, cache = self.cfg, {}

        def fn(img):
            hw = img.shape[:2]
            if hw not in cache:
                cache[hw] = self.grad_fn(hw)
            return make_step(img, cache[hw], cfg['step_size'], cfg['normalize'], cfg['jitter'],
                             cfg['clip'], self.rng)
        return fn


def iterate(cfg, session=None):
    s = session or Session(cfg)
    yield from dream(s.input, cfg['octaves'], cfg['steps'], s.step_fn(),
                     cfg['output']['save_every'])
