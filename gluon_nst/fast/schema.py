"""The fast method's config keys and defaults: the one source of both.

Several styles: `style_image` plus `blend.image_2..4`, one key each, so that
each path is read from the config file's folder like every other path.
"""
from ..config import Field, common_fields, output_fields
from ..errors import UserError

EXTRA_STYLES = ('image_2', 'image_3', 'image_4')

SCHEMA = {
    **common_fields(),
    'content_image': Field(None, 'path', 'content image file, a folder of images, or a glob '
                           '(e.g. photos/*.jpg): one result per image', required=True),
    'style_image': Field(None, 'path', 'style image file', required=True),
    'strength': Field(1.0, 'float', 'style strength: 1 the style, 0 the content image\'s own '
                      'style vector (interpolated between)', lo=0, hi=1),
    'longest_side': Field(None, 'int', 'resize the content to this longest side, aspect kept '
                          '(default: the content\'s own size)', lo=16, nullable=True),
    'style_fit': Field('crop', 'choice', 'style image to the predictor\'s 256x256: crop (centred '
                       'square, as Magenta and TF Hub) or stretch (whole image)',
                       choices=['crop', 'stretch']),
    'blend': {
        **{k: Field(None, 'path', f'style {k[-1]}: another style image to blend', nullable=True)
           for k in EXTRA_STYLES},
        'weights': Field(None, 'floats', 'blend weights, one per style (style_image first); '
                         'normalised to sum 1 (default: equal)', nullable=True),
    },
    'weights': {
        'path': Field(None, 'path', 'folder holding magenta/arbitrary_*.onnx, or the files\' '
                      'folder (else $GLUON_NST_WEIGHTS, the cache)', nullable=True),
    },
    'output': output_fields(),
}


def style_paths(cfg):
    """The style images in blend order."""
    return [cfg['style_image']] + [cfg['blend'][k] for k in EXTRA_STYLES if cfg['blend'][k]]


def check(cfg):
    """Checks across keys, after each key passed its own."""
    n, weights = len(style_paths(cfg)), cfg['blend']['weights']
    if weights is None:
        return
    if len(weights) != n:
        raise UserError(f"config key 'blend.weights': {len(weights)} weights for {n} style "
                        f"image{'s' if n > 1 else ''}; give one per style (style_image, then "
                        'blend.image_2...)')
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise UserError(f"config key 'blend.weights': got {weights}; give weights >= 0 with a "
                        'positive sum')
