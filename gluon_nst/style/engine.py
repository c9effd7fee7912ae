"""The engine: from a validated config to a stream of iterates over all stages.

`iterate(cfg)` is the generator every front end consumes; `stylize()` is the
keyword API on top of it, with a per-iteration callback.
"""
import dataclasses
import difflib

import numpy as np

from .. import config as config_mod
from .. import image_io, imaging, runtime
from ..errors import UserError
from ..models import features
from . import color, masks
from .calibration import CALIBRATION_PIXELS, feature_scales
from .schedule import hand_over, plan
from .schema import INIT_WORDS, MIN_TILE, STAGE, style_paths

# A tiled stage also keeps whole-image arrays (image, gradient, Adam's two moments,
# the last good image, the content image): bytes per pixel of the stage, estimated.
BYTES_PER_TILED_PIXEL = 64


def loss_spec(lay, loss, weights, size=None):
    """Per-layer loss weights with the feature scales (at an image of size (width, height))
    folded in, from the config's layers, loss and weights sections."""
    pixels = size[0] * size[1] if size else CALIBRATION_PIXELS[0]
    scales = feature_scales(weights['source'], lay['content'] + lay['style'],
                            weights['feature_scale'], pixels)
    nc, ns = len(lay['content']), len(lay['style'])
    cw = lay['content_weights'] or [1.0] * nc
    sw = lay['style_weights'] or [1.0] * ns
    c_avg = nc if (lay['average'] and nc) else 1
    s_avg = ns if (lay['average'] and ns) else 1
    # Features / s: content loss / s^2, Gram and so style loss / s^4.
    content_weights = [loss['content_weight'] * w / c_avg / s ** 2 for w, s in zip(cw, scales[:nc])]
    style_weights = [loss['style_weight'] * w / s_avg / s ** 4 for w, s in zip(sw, scales[nc:])]
    return dict(content_layers=lay['content'], style_layers=lay['style'],
                content_weights=content_weights, style_weights=style_weights,
                tv_weight=loss['tv_weight'], gram_norm=loss['gram_norm'],
                content_reduction=loss['content_reduction'],
                style_reduction=loss['style_reduction'], tv_form=loss['tv_form'],
                tv_power=loss['tv_power'], feature_scales=scales)


class Session:
    """Everything a run needs that does not change between stages."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.threads = runtime.configure_threads(cfg['threads'])   # before MXNet is imported
        import mxnet as mx
        self.ctx = runtime.context(cfg['device'])
        self.content = image_io.read_rgb(cfg['content_image'], 'content image')
        self.styles = [image_io.read_rgb(p, 'style image') for p in style_paths(cfg)]
        self.style = self.styles[0]
        blend = cfg['style_blend_weights'] or [1.0] * len(self.styles)
        self.blend_weights = [w / sum(blend) for w in blend]
        self.masks = self._read_masks()                # bad files fail before any work
        self.color = cfg['color']
        # The images the losses see: the originals, their luminance, or the style recoloured.
        self.loss_content, self.loss_styles = self._loss_images()
        self.init = cfg['init'] if cfg['init'] in INIT_WORDS else \
            image_io.read_rgb(cfg['init'], 'init image')
        if isinstance(self.init, str) and self.init == 'fast':     # loaded before any work
            from ..fast import load_model
            self.fast_model = load_model(cfg['weights']['path'], cfg['threads'])
        self.stages = plan(cfg['stages'], self.content.shape[1::-1])
        self.srcnn = self._load_srcnn()                 # a missing model fails before any work
        self.convention = cfg['preprocess']['convention']
        self.spec = self.spec_for(self.stages[0])
        self._check_memory()
        self.features = features.load(
            'vgg19', self.spec['content_layers'] + self.spec['style_layers'],
            source=cfg['weights']['source'], path=cfg['weights']['path'],
            convention=self.convention, pooling=cfg['pooling'], ctx=self.ctx)
        self.weights_record = self.features.record
        self.bounds = image_io.pixel_range(self.convention) if cfg['optimizer']['clip'] else None
        mx.random.seed(cfg['seed'])
        np.random.seed(cfg['seed'])

    def spec_for(self, stage):
        """The loss spec at this stage's size (calibrated feature scales depend on it)."""
        cfg = self.cfg
        spec = loss_spec(cfg['layers'], cfg['loss'], cfg['weights'], stage.shape)
        spec.update(blend_weights=self.blend_weights, masked=self.masks is not None)
        return spec

    def _read_masks(self):
        cfg = self.cfg
        given = cfg['style_masks']
        given = [given] if isinstance(given, str) else given
        style = [masks.read_mask(p, f'style_masks.{i}' if len(given) > 1 else 'style_masks')
                 for i, p in enumerate(given)] if given else None
        content = masks.read_mask(cfg['content_mask'], 'content_mask') \
            if cfg['content_mask'] else None
        return masks.style_masks(style, content, len(self.styles))

    def _loss_images(self):
        if self.color == 'luminance':
            return (color.luminance_image(self.content),
                    [color.luminance_image(s, match_to=self.content) for s in self.styles])
        if self.color == 'match':
            method = self.cfg['color_match']
            return self.content, [color.match_colors(s, self.content, method) for s in self.styles]
        return self.content, self.styles

    def chroma_restorer(self, stage):
        """With color: luminance, a function from an optimised image (network space) to
        the same image with the content's chroma at this stage's size; else None."""
        if self.color != 'luminance':
            return None
        import mxnet as mx
        content01 = mx.image.imresize(mx.nd.array(self.content, dtype='uint8'), stage.width,
                                      stage.height).asnumpy() / 255.0

        def restore(x):
            y01 = image_io.postprocess(x, self.convention).asnumpy()
            rgb = color.with_chroma(y01, content01) * 255.0
            return image_io.preprocess(rgb.astype(np.float32), stage.shape, self.convention,
                                       x.context)
        return restore

    def _load_srcnn(self):
        """{scale: (net, meta)} for hand_over: srcnn, one model per stage change."""
        if self.cfg['hand_over'] != 'srcnn':
            return {}
        from ..models import srcnn
        from ..sr.upscale import scale_for
        models = {}
        for prev, st in zip(self.stages, self.stages[1:]):
            scale = scale_for(st.width / prev.width)
            if scale not in models:
                models[scale] = srcnn.get_model(self.cfg['hand_over_model'],
                                                None if self.cfg['hand_over_model'] else scale)
        return models

    def hand_over(self, x, stage):
        """The previous stage's image enlarged to this stage's shape: the book's bilinear
        resize, or SRCNN (floats throughout, no rounding to 8 bits)."""
        if not self.srcnn:
            return hand_over(x, stage, self.convention, self.ctx)
        from ..sr.upscale import scale_for, upscale_to
        rgb = image_io.postprocess(x, self.convention).asnumpy().astype(np.float64) * 255
        net, meta = self.srcnn[scale_for(stage.width / rgb.shape[1])]
        big = upscale_to(rgb, stage.width, stage.height, net=net, meta=meta,
                         rounded=False)
        return image_io.preprocess(big.astype(np.float32), stage.shape, self.convention,
                                   self.ctx)

    def crops(self, stage):
        """[(tile, crop)] boxes of a tiled stage (all crops one size), or None."""
        tile = self.cfg['tile_size']
        if not imaging.needs_tiles(stage.shape, tile):
            return None
        return imaging.same_size_tiles(stage.shape, tile, self.cfg['tile_margin'])

    def _check_memory(self):
        per_pixel = features.network('vgg19').bytes_per_pixel
        for st in self.stages:
            crops = self.crops(st)
            if crops:
                need = per_pixel * imaging.largest_crop_pixels(crops) + \
                    BYTES_PER_TILED_PIXEL * st.width * st.height
                fix = 'use a smaller tile_size or image_shape'
            else:
                need = per_pixel * st.width * st.height

                def fix(avail):
                    side = imaging.tile_for_memory(avail, per_pixel, 0.6, 128, MIN_TILE)
                    return (f'set tile_size (e.g. tile_size: {side}) to optimise it in tiles, or use '
                            'a smaller image_shape')
            imaging.check_memory(f'stage {st.index} ({st.width}x{st.height})', need, fix, self.ctx)

    def loss_inputs(self, stage):
        """The content and the style images of `stage` in network space, as the losses see them
        (the styles at the stage's style size)."""
        content = image_io.preprocess(self.loss_content, stage.shape, self.convention, self.ctx)
        styles = [image_io.preprocess(img, stage.style_shape(img.shape[1::-1]), self.convention, self.ctx)
                  for img in self.loss_styles]
        return content, styles

    def initial_image(self, stage):
        """The first stage's start in network space (an init image of another size is resized
        to the stage's shape); in luminance mode, its luminance."""
        word = self.init if isinstance(self.init, str) else None
        if word == 'content':
            img = self.loss_content
        elif word == 'fast':
            from ..fast import stylize
            img = stylize(self.loss_content, self.loss_styles, weights=self.blend_weights,
                          model=self.fast_model, size=stage.shape)
        elif word == 'gray':                       # crowsonkb's init: gray, without its noise
            img = np.full((stage.height, stage.width, 3), 127.5, dtype=np.float32)
        elif word == 'noise':
            rng = np.random.RandomState(self.cfg['seed'])
            img = rng.uniform(0, 255, size=(stage.height, stage.width, 3)).astype(np.float32)
        else:
            img = self.init
        if self.color == 'luminance' and word not in ('content', 'gray'):
            img = color.luminance_image(img)
        return image_io.preprocess(img, stage.shape, self.convention, self.ctx)


def iterate(cfg, session=None, start=None):
    """Yield an Iterate per optimisation step over every stage.

    The last Iterate of each stage carries the stage's image.  `start` (an
    image in network space) replaces the first stage's initial image.
    """
    from .objective import Objective, compile_objective
    from ..optim import NonFiniteLoss
    from .optimize import OPTIMIZERS
    s = session or Session(cfg)
    opt = cfg['optimizer']
    run_stage = OPTIMIZERS[opt['name']]
    x = start
    for stage in s.stages:
        if x is None:
            x = s.initial_image(stage)
        elif x.shape[2:] != (stage.height, stage.width):
            x = s.hand_over(x, stage)
        content_x, style_xs = s.loss_inputs(stage)
        crops = s.crops(stage)
        if crops:          # one graph for every crop; Grams once, content features per crop
            (cy0, cy1, cx0, cx1) = crops[0][1]
            objective = Objective(s.features, s.spec_for(stage), (cx1 - cx0, cy1 - cy0))
            grams = objective.targets(None, style_xs, s.masks, cfg['tile_size'], cfg['tile_margin'])
            targets = [objective.content_features(content_x[:, :, y0:y1, x0:x1]) + grams
                       for _, (y0, y1, x0, x1) in crops]
            del content_x
        else:
            objective = Objective(s.features, s.spec_for(stage), stage.shape)
            targets = objective.targets(content_x, style_xs, s.masks)
        compile_objective(objective)
        save_every = cfg['output']['save_every']
        force = range(save_every - 1, stage.steps, save_every) if save_every else ()
        # Luminance mode: the optimised (luminance) image goes on to the next stage; what is
        # yielded (saved, shown) has the content's chroma.
        restore = s.chroma_restorer(stage)
        try:
            for it in run_stage(objective, targets, x, stage, opt,
                                sync_every=cfg['output']['sync_every'], bounds=s.bounds,
                                keep_best=opt['keep_best'], force_sync=set(force),
                                **({'crops': crops} if crops else {})):
                if it.image is not None:
                    x = it.image
                    if restore is not None:
                        it = dataclasses.replace(it, image=restore(it.image))
                yield it
        except NonFiniteLoss as e:
            if restore is not None and getattr(e, 'image', None) is not None:
                e.image = restore(e.image)
            raise
        del objective, targets


_AMBIGUOUS = {'name', 'content', 'style'}


def stylize(content_image, style_image, *, config=None, overrides=None, callback=None,
            **kwargs):
    """Style transfer in one call; returns the result as an (H, W, 3) uint8 RGB array.

    config: a YAML path or a dict of config values (default: the book's settings).
    overrides: {'loss.style_weight': 1e4, ...} in dotted form.
    kwargs: any config key by its last name when unambiguous (style_weight=1e4,
        tv_weight=0, stages=[...], device='cpu').
    callback(iterate): called for every step (progress, logging, saving).
    """
    leaves = {k: v for k, v in config_mod.leaf_keys('style').items() if '.0.' not in v[0]}
    sets = [('content_image', content_image), ('style_image', style_image)]
    for k, v in kwargs.items():
        full = leaves.get(k, [])
        if not full:
            near = difflib.get_close_matches(k, list(leaves), n=1, cutoff=0.5)
            hint = (f"; did you mean {near[0]!r} ('{leaves[near[0]][0]}')?" if near
                    else '; see python scripts/train.py --help-config')
            raise UserError(f'stylize(): unknown config key {k!r}{hint}')
        if k in _AMBIGUOUS or len(full) != 1:
            where = 'stages.0' if k in STAGE else 'section'
            raise UserError(f'stylize(): {k!r} is not an unambiguous config key; pass it as '
                            f"overrides={{'{where}.{k}': ...}}")
        sets.append((full[0], v))
    sets += list((overrides or {}).items())
    if isinstance(config, dict):
        cfg = config_mod.load(data=config, overrides=sets)
    else:
        cfg = config_mod.load(config, overrides=sets)
    last = None
    for it in iterate(cfg):
        if callback is not None:
            callback(it)
        if it.image is not None:
            last = it.image
    from ..image_io import postprocess
    return imaging.to_uint8(postprocess(last, cfg['preprocess']['convention']), 1.0)
