"""VGG-19 feature extractor: layer names, the frozen truncated network, and
the input-convention folding into conv1_1.

Layer indices follow `gluon.model_zoo.vision.vgg19().features` (the book's
indices): conv1_1 is 0, relu1_1 is 1, ..., conv5_1 is 28.
"""
import difflib

import numpy as np

from .errors import UserError

# VGG-19 "E" configuration: conv widths per block.
VGG19_BLOCKS = [[64, 64], [128, 128], [256] * 4, [512] * 4, [512] * 4]


def _layer_table():
    """Map every layer name of VGG-19 `features` to its index (and back)."""
    names = []
    for b, widths in enumerate(VGG19_BLOCKS, start=1):
        for c in range(1, len(widths) + 1):
            names += [f'conv{b}_{c}', f'relu{b}_{c}']
        names.append(f'pool{b}')
    return names


LAYER_NAMES = _layer_table()
CONV_INDICES = [i for i, n in enumerate(LAYER_NAMES) if n.startswith('conv')]
# Keras/TF names of the conv layers (block1_conv1 ...) are accepted too.
KERAS_ALIASES = {f'block{n[4]}_conv{n[6]}': n for n in LAYER_NAMES if n.startswith('conv')}
KERAS_ALIASES.update({f'block{n[4]}_pool': n for n in LAYER_NAMES if n.startswith('pool')})


def layer_index(layer):
    """Resolve an index or a name (`conv4_2`, `relu4_2`, `block4_conv2`) to an index."""
    if isinstance(layer, bool):
        raise UserError(f'layer {layer!r} is not a VGG-19 layer: use an index 0..{len(LAYER_NAMES) - 1} '
                        'or a name like conv4_2')
    if isinstance(layer, int):
        if 0 <= layer < len(LAYER_NAMES):
            return layer
        raise UserError(f'layer index {layer} is out of range: VGG-19 features have indices '
                        f'0..{len(LAYER_NAMES) - 1}')
    name = KERAS_ALIASES.get(str(layer), str(layer))
    if name in LAYER_NAMES:
        return LAYER_NAMES.index(name)
    near = difflib.get_close_matches(str(layer), LAYER_NAMES + list(KERAS_ALIASES), n=1)
    hint = f'; did you mean {near[0]!r}?' if near else ''
    raise UserError(f'unknown VGG-19 layer {layer!r}{hint} (names: conv1_1..conv5_4, relu1_1.., pool1..5)')


# Input conventions: x_net = (pixel01[perm] * scale - offset) / div, per channel,
# with pixel01 the RGB image in 0..1.
CONVENTIONS = {
    # The book / MXNet model zoo: RGB, 0..1, ImageNet mean/std.
    'book': dict(perm=(0, 1, 2), scale=(1.0, 1.0, 1.0),
                 mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
    # Caffe / Keras "caffe" mode: BGR, 0..255, minus the BGR means.
    'caffe': dict(perm=(2, 1, 0), scale=(255.0, 255.0, 255.0),
                  mean=(103.939, 116.779, 123.68), std=(1.0, 1.0, 1.0)),
    # Plain RGB in 0..1 (TF2 recipes optimise this image, preprocessing inside the model).
    'rgb01': dict(perm=(0, 1, 2), scale=(1.0, 1.0, 1.0), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0)),
}


def convention_affine(name):
    """(perm, a, b) such that x[k] = a[k] * rgb01[perm[k]] + b[k]."""
    c = CONVENTIONS[name]
    a = np.array(c['scale']) / np.array(c['std'])
    b = -np.array(c['mean']) / np.array(c['std'])
    return np.array(c['perm']), a, b


def fold_input_convention(weight, bias, src, dst):
    """Rewrite conv1_1 trained on convention `dst` so it takes convention `src`.

    The map src -> dst is a per-channel affine map with a channel permutation,
    so it folds exactly into the first convolution (away from the zero-padded
    border, where the padding value differs).  weight: (out, in, kh, kw).
    """
    if src == dst:
        return weight, bias
    p_s, a_s, b_s = convention_affine(src)
    p_d, a_d, b_d = convention_affine(dst)
    # rgb01[c] = (x_src[k_s(c)] - b_s) / a_s, where k_s(c) is the src channel holding rgb c.
    inv_s = np.argsort(p_s)
    new_w = np.zeros_like(weight)
    new_b = bias.astype(np.float64).copy()
    for k in range(3):                       # dst channel k holds rgb channel p_d[k]
        rgb = p_d[k]
        j = inv_s[rgb]                       # src channel holding the same rgb channel
        gain = a_d[k] / a_s[j]
        shift = b_d[k] - a_d[k] * b_s[j] / a_s[j]
        new_w[:, j] += weight[:, k] * gain
        new_b += weight[:, k].sum(axis=(1, 2)) * shift
    return new_w.astype(weight.dtype), new_b.astype(bias.dtype)


def pixel_range(convention):
    """Per-channel (low, high) of valid pixels in the network's input space."""
    _, a, b = convention_affine(convention)
    lo, hi = b, a + b
    return np.minimum(lo, hi), np.maximum(lo, hi)


def build_features(depth):
    """`gluon.model_zoo.vision.vgg19().features`, cut after layer `depth - 1`.

    Conv shapes are set here, so the net can be initialised and its weights
    set before any forward pass (the zoo defers them to the first input).
    """
    from mxnet.gluon.model_zoo import vision
    net = vision.vgg19().features[:depth]
    channels = 3
    for name, blk in zip(LAYER_NAMES[:depth], net):
        if name.startswith('conv'):
            width = VGG19_BLOCKS[int(name[4]) - 1][int(name[6]) - 1]
            blk.weight.shape = (width, channels, 3, 3)
            channels = width
    return net


def feature_shape(index, height, width):
    """(c, h, w) of the output of layer `index` for an (height, width) input."""
    c, h, w = 3, height, width
    for name in LAYER_NAMES[:index + 1]:
        if name.startswith('conv'):
            c = VGG19_BLOCKS[int(name[4]) - 1][int(name[6]) - 1]
        elif name.startswith('pool'):
            h, w = h // 2, w // 2
    return c, h, w
