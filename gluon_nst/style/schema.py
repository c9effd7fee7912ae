"""The style method's config keys and defaults: the one source of both.

The defaults are the book's (D2L press edition) numbers.
"""
import os
import sys

from ..config import Field, common_fields, output_fields
from ..errors import UserError

INIT_WORDS = ('content', 'noise', 'gray', 'fast')
MIN_TILE = 128              # pixels: conv5_1 sees an 8x8 map of such a tile


def _layers(v):
    from ..models.vgg19 import layer_index
    v = [v] if isinstance(v, (int, str)) and not isinstance(v, bool) else v
    if not isinstance(v, list) or not all(isinstance(x, (int, str)) and not isinstance(x, bool)
                                          for x in v):
        raise ValueError('a list of layer indices or names')
    return [layer_index(x) for x in v]


def _init(v):
    if v not in INIT_WORDS and not os.path.isfile(v):
        raise ValueError("'content', 'noise', 'gray', 'fast' or an existing image file")
    return v


def _decay(v):
    if v >= 1:
        raise ValueError('a value >= 0 and < 1 (0: off)')
    return v


def style_paths(cfg):
    """The style images as a list (style_image takes one path or a list)."""
    v = cfg['style_image']
    return [v] if isinstance(v, str) else list(v)


def _feature_scale(v):
    from ..config import yaml_number
    if v in ('calibrated', 'none'):
        return v
    v = [yaml_number(x) for x in v] if isinstance(v, list) else yaml_number(v)

    def positive(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0
    if positive(v):
        return float(v)
    if isinstance(v, list) and v and all(positive(x) for x in v):
        return [float(x) for x in v]
    raise ValueError("'calibrated', 'none', a positive number or a list of them")


def _check_stage(raw, stage, key):
    old = stage.pop('epochs')
    if raw.get('epochs') is not None:
        if 'steps' in raw and raw['steps'] != STAGE['steps'].default:
            raise UserError(f"config key '{key}': give steps (epochs is its old name), not both")
        stage['steps'] = old
        print(f"warning: config key '{key}.epochs' is now '{key}.steps' (optimisation steps; "
              "srcnn's train.epochs are real epochs): rename it", file=sys.stderr)
    if raw.get('longest_side') is not None and raw.get('image_shape'):
        raise UserError(f"config key '{key}': give image_shape or longest_side, not both")
    if stage['style_scale'] is not None and stage['style_longest_side'] is not None:
        raise UserError(f"config key '{key}': give style_scale or style_longest_side, not both")
    if stage['longest_side'] is not None:
        stage['image_shape'] = None
    elif stage['image_shape'] is None:
        raise UserError(f"config key '{key}': give image_shape [W, H] or longest_side")


STAGE = {
    'image_shape': Field([300, 200], 'shape', 'image [width, height] of this stage',
                         nullable=True, lo=16),
    'longest_side': Field(None, 'int', 'instead of image_shape: longest side in pixels, '
                          'the other from the content aspect ratio', lo=16, nullable=True),
    'style_longest_side': Field(None, 'int', 'style image at this longest side, aspect kept '
                                '(default: stretched to the stage shape, as the book)', lo=16,
                                nullable=True),
    'style_scale': Field(None, 'float', 'instead of style_longest_side: the style image\'s '
                         'longest side as a factor of this stage\'s longest side, aspect kept '
                         '(jcjohnson\'s -style_scale)', lo=0, lo_open=True, nullable=True),
    'steps': Field(500, 'int', 'optimisation steps (L-BFGS: rounds)', lo=1),
    'epochs': Field(None, 'int', 'old name of steps (still read, with a warning)', lo=1,
                    nullable=True),
    'lr': Field(0.01, 'float', 'learning rate (Adam)', lo=0, lo_open=True),
    'lr_decay_epoch': Field(200, 'int', 'multiply lr by lr_decay_factor after step i '
                            'when i % lr_decay_epoch == 0 and i != 0 (0: never)', lo=0),
    'lr_decay_factor': Field(0.1, 'float', 'lr decay factor', lo=0, hi=1, lo_open=True),
}

SCHEMA = {
    **common_fields(),
    'content_image': Field(None, 'path', 'content image file', required=True),
    'style_image': Field(None, 'path', 'style image file, or a list of them (their Gram '
                         'matrices blended by style_blend_weights)', required=True, many=True),
    'style_blend_weights': Field(None, 'floats', 'one weight per style image, normalised to sum '
                                 '1 (default: equal)', nullable=True),
    'style_masks': Field(None, 'path', 'one mask image per style image: white where that style '
                         'acts (stretched to the image; default: everywhere)', nullable=True,
                         many=True),
    'content_mask': Field(None, 'path', 'mask image: white where the content is kept (no style '
                          'terms there)', nullable=True),
    'color': Field('transfer', 'choice', 'transfer (the style\'s colours), luminance (style '
                   'transfer on luminance only, the content\'s chroma kept) or match (the '
                   'style image recoloured to the content\'s colours first)',
                   choices=['transfer', 'luminance', 'match']),
    'color_match': Field('linear', 'choice', 'with color: match: linear (RGB mean and '
                         'covariance, matrix square roots) or histogram (per channel)',
                         choices=['linear', 'histogram']),
    'pooling': Field('max', 'choice', 'VGG-19 pooling: max (the network\'s) or avg (Gatys et '
                     'al.; the calibrated feature scales are max pooling\'s)',
                     choices=['max', 'avg']),
    'init': Field('content', 'path', 'starting image: content, noise, gray (uniform RGB 0.5), '
                  'fast (Magenta\'s feed-forward stylisation of the content; needs the fast '
                  'extra), or an image file (resized to the first stage\'s shape)',
                  words=INIT_WORDS, convert=_init),
    'tile_size': Field(0, 'int', 'optimise a stage wider or taller than this many pixels in '
                       'tiles (0: whole; e.g. 1024 for a 4000x3000 result): style Grams once '
                       'for the whole style, content features and gradients per tile',
                       lo=0),
    'tile_margin': Field(64, 'int', 'context pixels around each tile; a crop\'s gradient is kept '
                         'only inside its tile, so no seam shows', lo=0),
    'hand_over': Field('bilinear', 'choice', 'how the image is enlarged between coarse-to-fine '
                       'stages: bilinear (the book) or srcnn (our SRCNN on Y, bicubic CbCr)',
                       choices=['bilinear', 'srcnn']),
    'hand_over_model': Field(None, 'path', 'with hand_over: srcnn, a trained model (run folder '
                             'or .params; default: the shipped model nearest the stages\' '
                             'size ratio)', nullable=True),
    'weights': {
        'source': Field('caffe-vgg19', 'choice', 'pretrained VGG-19 weights',
                        choices=['caffe-vgg19', 'mxnet-zoo']),
        'path': Field(None, 'path', 'local weights file or folder (else $GLUON_NST_WEIGHTS, '
                      'the cache, a download)', nullable=True),
        'feature_scale': Field('calibrated', 'custom', "per-layer feature divisors: 'calibrated', "
                               "'none', a number, or a list (one per content+style layer)",
                               convert=_feature_scale),
    },
    'preprocess': {
        'convention': Field('book', 'choice', 'image representation the optimiser sees: book '
                            '(RGB 0..1, ImageNet mean/std), caffe (BGR 0..255 minus means) or '
                            'rgb01 (RGB 0..1)', choices=['book', 'caffe', 'rgb01']),
    },
    'layers': {
        'content': Field([25], 'custom', 'content layers: indices or names (conv4_2, relu4_2, '
                         'block4_conv2)', convert=_layers),
        'style': Field([0, 5, 10, 19, 28], 'custom', 'style layers: indices or names',
                       convert=_layers),
        'content_weights': Field(None, 'floats', 'per content layer multipliers', nullable=True),
        'style_weights': Field(None, 'floats', 'per style layer multipliers', nullable=True),
        'average': Field(False, 'bool', 'divide each term by its number of layers'),
    },
    'loss': {
        'content_weight': Field(1.0, 'float', 'content loss weight', lo=0),
        'style_weight': Field(1e3, 'float', 'style loss weight', lo=0),
        'tv_weight': Field(10.0, 'float', 'total-variation loss weight', lo=0),
        'content_reduction': Field('mean', 'choice', 'content: mean or sum of squares',
                                   choices=['mean', 'sum']),
        'gram_norm': Field('chw', 'choice', 'Gram divisor: chw (book), hw (locations), none',
                           choices=['chw', 'hw', 'none']),
        'style_reduction': Field('mean', 'choice', 'style: mean, sum, or keras '
                                 '(sum / (4 * 3^2 * (H*W)^2))', choices=['mean', 'sum', 'keras']),
        'tv_form': Field('l1_mean', 'choice', 'TV: l1_mean (book), keras (power form) or '
                         'squared_sum (jcjohnson: 0.5 * sum of squared neighbour differences)',
                         choices=['l1_mean', 'keras', 'squared_sum']),
        'tv_power': Field(1.25, 'float', 'exponent of the keras TV form', lo=0, lo_open=True),
    },
    'optimizer': {
        'name': Field('adam', 'choice', 'adam (gluon.Trainer), lbfgs (scipy L-BFGS-B in rounds) '
                      'or lbfgs_torch (torch.optim.LBFGS on the device: one evaluation per '
                      'step, step length stages.N.lr, history kept)',
                      choices=['adam', 'lbfgs', 'lbfgs_torch']),
        'beta1': Field(0.9, 'float', 'Adam beta1', lo=0, hi=1),
        'beta2': Field(0.999, 'float', 'Adam beta2', lo=0, hi=1),
        'epsilon': Field(1e-8, 'float', 'Adam epsilon', lo=0, lo_open=True),
        'clip': Field(False, 'bool', 'clip the image to the valid pixel range after every step'),
        'keep_best': Field(False, 'bool', 'keep the lowest-loss image as the result'),
        'lbfgs_maxfun': Field(20, 'int', 'L-BFGS function evaluations per round', lo=1),
        'lbfgs_history': Field(10, 'int', 'L-BFGS memory (corrections kept)', lo=1),
        'lbfgs_tol_grad': Field(1e-7, 'float', 'lbfgs_torch: stop when max |gradient| <= this '
                                '(torch\'s tolerance_grad)', lo=0),
        'lbfgs_tol_change': Field(1e-9, 'float', 'lbfgs_torch: stop when the step or the loss '
                                  'change is below this (torch\'s tolerance_change)', lo=0),
        'ema_decay': Field(0.0, 'float', 'average the image over the steps (L-BFGS: '
                           'iterations), bias-corrected exponential moving average with this '
                           'decay, and make the average the result (0: off; crowsonkb: 0.99)',
                           lo=0, convert=_decay),
    },
    'stages': Field([{k: f.default for k, f in STAGE.items() if k != 'epochs'}], 'items',
                    'coarse-to-fine stages (default: one stage of stage defaults)',
                    item=STAGE, check_item=_check_stage),
    'output': output_fields(
        save_every=Field(0, 'int', 'also save the image every N steps (0: per stage only)', lo=0),
        sync_every=Field(10, 'int', 'read losses from the device every N steps', lo=1),
        quality=Field(True, 'bool', 'score the result at the end (record.json quality: '
                      'content and style distances, gluon_nst/quality.py)')),
}


def check(cfg):
    """Checks across keys, after each key passed its own."""
    lay = cfg['layers']
    for kind in ('content', 'style'):
        w = lay[f'{kind}_weights']
        if w is not None and len(w) != len(lay[kind]):
            raise UserError(f"config key 'layers.{kind}_weights': {len(w)} weights for "
                            f"{len(lay[kind])} {kind} layers; give one per layer")
    if not lay['content'] and not lay['style']:
        raise UserError("config: 'layers.content' and 'layers.style' are both empty: "
                        'select at least one layer')
    scale = cfg['weights']['feature_scale']
    n = len(lay['content']) + len(lay['style'])
    if isinstance(scale, list) and len(scale) != n:
        raise UserError(f"config key 'weights.feature_scale': {len(scale)} scales for {n} layers "
                        '(content then style); give one per layer or a single number')
    n_styles = len(style_paths(cfg))
    for key in ('style_blend_weights', 'style_masks'):
        v = cfg[key]
        v = [v] if isinstance(v, str) else v
        if v is not None and len(v) != n_styles:
            raise UserError(f"config key '{key}': {len(v)} given for {n_styles} style "
                            f"image{'s' if n_styles > 1 else ''}; give one per style_image")
    blend = cfg['style_blend_weights']
    if blend is not None and (min(blend) < 0 or sum(blend) <= 0):
        raise UserError(f"config key 'style_blend_weights': got {blend}; give weights >= 0 with "
                        'a positive sum')
    if cfg['tile_size']:
        if 0 < cfg['tile_size'] < MIN_TILE:
            raise UserError(f"config key 'tile_size': {cfg['tile_size']} is too small for VGG-19's "
                            f'deeper layers; give at least {MIN_TILE} (or 0: no tiles)')
        if cfg['optimizer']['name'] != 'adam':
            raise UserError(f"config key 'tile_size': tiles need optimizer.name: adam (L-BFGS "
                            f"needs one exact gradient of the whole image); got "
                            f"'{cfg['optimizer']['name']}'")
        if cfg['style_masks'] or cfg['content_mask']:
            raise UserError("config key 'tile_size': masks and tiles do not go together yet; "
                            'drop style_masks/content_mask or set tile_size: 0')
    if cfg['optimizer']['ema_decay'] and cfg['optimizer']['keep_best']:
        raise UserError("config keys 'optimizer.ema_decay' and 'optimizer.keep_best': both pick "
                        'the result image; set one of them (ema_decay: 0 or keep_best: false)')
