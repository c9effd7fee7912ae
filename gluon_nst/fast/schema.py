"""The fast method's config keys and defaults: the one source of both.

Several styles: `style_image` takes a list of paths, weighted by
`style_blend_weights` (the style method's keys).  The former `blend.image_2..4`
and `blend.weights` keys still load: `check` moves them onto the list form and
prints a one-line deprecation message.
"""
import sys

from ..config import Field, common_fields, output_fields
from ..errors import UserError
from ..models.magenta import PRECISIONS

LEGACY_STYLES = ('image_2', 'image_3', 'image_4')
AUTO = 'auto'


def _strength(v):
    from ..config import yaml_number
    v = yaml_number(v)
    if v == AUTO:
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1:
        return float(v)
    raise ValueError("a value >= 0 and <= 1, or 'auto'")


SCHEMA = {
    **common_fields(),
    'content_image': Field(None, 'path', 'content image file, a folder of images, or a glob '
                           '(e.g. photos/*.jpg): one result per image', required=True),
    'style_image': Field(None, 'path', 'style image file, or a list of them (their style vectors '
                         'blended by style_blend_weights)', required=True, many=True),
    'style_blend_weights': Field(None, 'floats', 'one weight per style image, normalised to sum '
                                 '1 (default: equal)', nullable=True),
    'strength': Field(AUTO, 'custom', 'style strength: 1 the style, 0 the content image\'s own '
                      'style vector (interpolated between); auto: the largest strength whose '
                      'result keeps the content measure >= auto_threshold (searched on a small '
                      'copy first)', convert=_strength),
    'auto_threshold': Field(0.85, 'float', 'with strength: auto, the content measure to keep on '
                            'the small copy: correlation of the result\'s luminance with the '
                            'content\'s at 256 px (1: the same shapes; strength 0 gives about 0.95)',
                            lo=0, hi=1),
    'precision': Field('float', 'choice', 'the transformer\'s activations: float (their int8 '
                       'quantise/dequantise steps removed in memory, the weights as stored) or '
                       'int8 (the file as shipped: coarser colours)',
                       choices=list(PRECISIONS)),
    'longest_side': Field(None, 'int', 'resize the content to this longest side, aspect kept '
                          '(default: the content\'s own size)', lo=16, nullable=True),
    'style_fit': Field('crop', 'choice', 'style image to the predictor\'s 256x256: crop (centred '
                       'square, as Magenta and TF Hub) or stretch (whole image)',
                       choices=['crop', 'stretch']),
    'blend': {       # deprecated: read by check() into style_image / style_blend_weights
        **{k: Field(None, 'path', 'deprecated: list the styles in style_image', nullable=True)
           for k in LEGACY_STYLES},
        'weights': Field(None, 'floats', 'deprecated: use style_blend_weights', nullable=True),
    },
    'weights': {
        'path': Field(None, 'path', 'folder holding magenta/arbitrary_*.onnx, or the files\' '
                      'folder (else $GLUON_NST_WEIGHTS, the cache)', nullable=True),
    },
    'output': output_fields(),
}


def style_paths(cfg):
    """The style images in blend order (style_image takes one path or a list)."""
    v = cfg['style_image']
    return [v] if isinstance(v, str) else list(v)


def _move_legacy_blend(cfg):
    """blend.image_N / blend.weights onto style_image / style_blend_weights, with a message."""
    legacy = cfg['blend']
    extra = [legacy[k] for k in LEGACY_STYLES if legacy[k]]
    used = [f'blend.{k}' for k in LEGACY_STYLES + ('weights',) if legacy[k] is not None]
    if not used:
        return
    if extra and not isinstance(cfg['style_image'], str):
        raise UserError("config keys 'blend.image_N' and a style_image list: give the styles only "
                        'as style_image: [a.jpg, b.jpg]')
    if legacy['weights'] is not None and cfg['style_blend_weights'] is not None:
        raise UserError("config keys 'blend.weights' and 'style_blend_weights': give only "
                        'style_blend_weights')
    print(f"config keys {', '.join(repr(k) for k in used)} are deprecated: list the styles as "
          'style_image: [a.jpg, b.jpg] with style_blend_weights: [0.7, 0.3]', file=sys.stderr)
    if extra:
        cfg['style_image'] = [cfg['style_image']] + extra
    if legacy['weights'] is not None:
        cfg['style_blend_weights'] = legacy['weights']
    cfg['blend'] = {k: None for k in legacy}


def check(cfg):
    """Checks across keys, after each key passed its own."""
    _move_legacy_blend(cfg)
    n, weights = len(style_paths(cfg)), cfg['style_blend_weights']
    if weights is None:
        return
    if len(weights) != n:
        raise UserError(f"config key 'style_blend_weights': {len(weights)} weights for {n} style "
                        f"image{'s' if n > 1 else ''}; give one per style_image entry")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise UserError(f"config key 'style_blend_weights': got {weights}; give weights >= 0 "
                        'with a positive sum')
