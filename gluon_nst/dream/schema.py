"""The dream method's config keys and defaults: the one source of both.

The defaults are Google's DeepDream notebook (google/deepdream, dream.ipynb):
`inception_4c/output`, L2 objective, 4 octaves at 1.4, 10 steps each, step
1.5 with the gradient over its mean |g|, jitter 32, clip.
"""
from ..config import Field, common_fields, name_list, output_fields
from ..errors import UserError

NETWORKS = ('googlenet', 'vgg19')
DEFAULT_LAYERS = {'googlenet': ['inception_4c/output'], 'vgg19': ['relu4_2']}


SCHEMA = {
    **common_fields(),
    'image': Field(None, 'path', 'the image to dream on', required=True),
    'longest_side': Field(None, 'int', 'resize the image to this longest side first '
                          '(default: as it is)', lo=8, nullable=True),
    'network': Field('googlenet', 'choice', 'the dreaming network: googlenet (BVLC) or vgg19',
                     choices=list(NETWORKS)),
    'weights': {
        'path': Field(None, 'path', 'folder holding googlenet/ or vgg19/ (else $GLUON_NST_WEIGHTS, '
                      'then the cache)', nullable=True),
        'source': Field('caffe-vgg19', 'choice', 'network: vgg19 only: which VGG-19 weights',
                        choices=['caffe-vgg19', 'mxnet-zoo']),
    },
    'layers': Field(None, 'custom', 'layers to amplify, by Caffe blob name (googlenet: '
                    'inception_4c/output, mixed4c...; vgg19: conv4_2, relu4_2...; default: '
                    'inception_4c/output or relu4_2)', nullable=True,
                    convert=name_list('inception_4c/output')),
    'layer_weights': Field(None, 'floats', 'one multiplier per layer (default: 1 each)',
                           nullable=True),
    'objective': Field('mean_square', 'choice', 'mean (cookbook), mean_square (L2, Google), or '
                       'guide (dot product with guide_image features, Google)',
                       choices=['mean', 'mean_square', 'guide']),
    'guide_image': Field(None, 'path', 'objective: guide: the image whose features to grow',
                         nullable=True),
    'guide_longest_side': Field(224, 'int', 'guide image resized to this longest side', lo=8,
                                nullable=True),
    'octaves': {
        'mode': Field('pyramid', 'choice', "pyramid (Google: octave n, scale, detail carried "
                      "over) or powers (cookbook: the image at scale ** p for each p)",
                      choices=['pyramid', 'powers']),
        'n': Field(4, 'int', 'pyramid: number of octaves', lo=1),
        'scale': Field(1.4, 'float', 'size ratio between octaves', lo=1, lo_open=True),
        'powers': Field([-2, -1, 0, 1, 2], 'floats', 'powers: the power factors, in order'),
    },
    'steps': Field(10, 'int', 'gradient-ascent steps per octave', lo=1),
    'step_size': Field(1.5, 'float', 'step in pixel units (0..255) of the normalised gradient '
                       "(the cookbook's 0.01 on [-1, 1] images is 1.275)", lo=0),
    'normalize': Field('mean_abs', 'choice', 'gradient divided by its mean |g| (Google) or its '
                       'std (cookbook)', choices=['mean_abs', 'std']),
    'jitter': Field(32, 'int', 'roll the image by up to this many pixels each step (rolled '
                    'back after)', lo=0),
    'clip': Field(True, 'bool', 'clip to the valid pixel range after every step'),
    'tile_size': Field(0, 'int', 'gradients in tiles of this many pixels a side (0: the whole '
                       'image at once); needed for images too large for memory', lo=0),
    'tile_margin': Field(32, 'int', 'context pixels around each tile (its gradient is kept '
                         'only inside the tile: no seams)', lo=0),
    'onednn': Field('auto', 'choice', "MXNet's oneDNN kernels: auto turns them on where the CPU "
                    'has AVX-512 (a whole dream 1.9x faster with them on an AVX-512 Xeon, 1.2-1.9x '
                    'slower on an AVX2 EPYC: gluon-nst bench dream --onednn); applies when the run '
                    'is the first to import MXNet in its process', choices=['auto', True, False]),
    'output': output_fields(
        save_every=Field(0, 'int', 'also save the image every N steps (0: per octave only)', lo=0),
        log_every=Field(10, 'int', 'with --quiet: print a log line every N steps', lo=1)),
}


def use_onednn(setting):
    """The `onednn` key's answer on this machine: True or False."""
    if setting == 'auto':
        from ..runtime import cpu_flags
        return 'avx512f' in cpu_flags()
    return bool(setting)


def layers_for(cfg):
    return cfg['layers'] or DEFAULT_LAYERS[cfg['network']]


def check(cfg):
    """Checks across keys, after each key passed its own (before any file is read)."""
    from ..models.features import network
    try:
        layers = network(cfg['network']).resolve(layers_for(cfg))
    except UserError as e:
        raise UserError(f"config key 'layers': {e}") from None
    w = cfg['layer_weights']
    if w is not None and len(w) != len(layers):
        raise UserError(f"config key 'layer_weights': {len(w)} weights for {len(layers)} layers; "
                        'give one per layer')
    if cfg['objective'] == 'guide' and not cfg['guide_image']:
        raise UserError("config: objective: guide needs guide_image: set it to an image file")
    if cfg['octaves']['mode'] == 'powers' and not cfg['octaves']['powers']:
        raise UserError("config key 'octaves.powers': empty; give at least one power, e.g. [0]")
    if 0 < cfg['tile_size'] < 64:
        raise UserError(f"config key 'tile_size': {cfg['tile_size']} is too small for the network; "
                        'use at least 64, or 0 for the whole image')
