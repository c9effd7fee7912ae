"""The dreaming networks behind one interface: layer names, the input convention,
feature sizes, and a frozen block returning the chosen layers' activations.

The dream works on RGB images in 0..255 (float32, H x W x 3); each network
takes them in its own Caffe convention (BGR minus its means), a map with unit
scale, so a gradient in the network's input space is the gradient in pixels.
"""
import numpy as np

from ..errors import UserError


def resolve_layers(network, names):
    """Canonical layer names for `network` (UserError suggesting the nearest)."""
    if network == 'googlenet':
        from ..models.googlenet import DREAM_BLOBS, blob_name
        out = []
        for n in names:
            b = blob_name(n)
            if b not in DREAM_BLOBS:
                raise UserError(f"layer {n!r} has no spatial map to dream on: use a blob up to "
                                'inception_5b/output (e.g. inception_4c/output)')
            out.append(b)
        return out
    from ..models.vgg19 import LAYER_NAMES, layer_index
    return [LAYER_NAMES[layer_index(n)] for n in names]


def stride(network, layer):
    """Pixels per cell of `layer`'s map."""
    if network == 'googlenet':
        from ..models.googlenet import BLOB_STRIDES
        return BLOB_STRIDES[layer]
    from ..models.vgg19 import LAYER_NAMES, layer_index
    return 2 ** sum(n.startswith('pool') for n in LAYER_NAMES[:layer_index(layer) + 1])


def deepest(network, layers):
    return max(layers, key=lambda n: stride(network, n))


def min_side(network, layers):
    """The smallest image side worth dreaming on: two cells of the coarsest layer's grid."""
    return 2 * stride(network, deepest(network, layers))


class DreamNet:
    """A frozen network returning the activations of `layers` for a (1, 3, H, W) input."""

    def __init__(self, network, layers, weights_path=None, source='caffe-vgg19', ctx=None):
        import mxnet as mx
        self.network, self.ctx = network, ctx or mx.cpu()
        self.layers = resolve_layers(network, layers)
        if network == 'googlenet':
            from ..models import get_model
            from ..models.googlenet import MEAN_BGR
            self.block, self.record = get_model('googlenet', outputs=self.layers, path=weights_path,
                                                ctx=self.ctx)
            self.mean_bgr = np.array(MEAN_BGR, dtype=np.float32)
        else:
            self.block, self.record = _vgg_taps(self.layers, weights_path, source, self.ctx)
            from ..image_io import CONVENTIONS
            self.mean_bgr = np.array(CONVENTIONS['caffe']['mean'], dtype=np.float32)

    def to_input(self, rgb):
        """(H, W, 3) RGB 0..255 numpy -> (1, 3, H, W) network input, numpy float32."""
        x = rgb[..., ::-1] - self.mean_bgr
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)

    @staticmethod
    def to_pixels(grad):
        """A gradient in input space (1, 3, H, W) -> (H, W, 3) RGB, the same values."""
        return np.ascontiguousarray(grad[0].transpose(1, 2, 0)[..., ::-1])

    def __call__(self, x):
        out = self.block(x)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    def feature_hw(self, layer, height, width):
        """(h, w) of `layer`'s map for an (height, width) image."""
        if self.network == 'googlenet':
            from ..models.googlenet import blob_hw
            return blob_hw(layer, height, width)
        from ..models.vgg19 import feature_shape, layer_index
        return feature_shape(layer_index(layer), height, width)[1:]

    def stride(self, layer):
        return stride(self.network, layer)

    def channels(self, layer):
        if self.network == 'googlenet':
            from ..models.googlenet import BLOB_CHANNELS
            return BLOB_CHANNELS[layer]
        from ..models.vgg19 import feature_shape, layer_index
        return feature_shape(layer_index(layer), 32, 32)[0]

    def forward_flops(self, height, width):
        """Forward multiply-adds x2 up to the deepest layer (the bench's yardstick)."""
        if self.network == 'googlenet':
            from ..models.googlenet import BLOB_NAMES, forward_flops
            deepest = max(self.layers, key=BLOB_NAMES.index)
            return forward_flops(height, width, deepest)
        from ..models.vgg19 import LAYER_NAMES, VGG19_BLOCKS, feature_shape, layer_index
        last, flops, cin = max(layer_index(n) for n in self.layers), 0, 3
        for i, name in enumerate(LAYER_NAMES[:last + 1]):
            if name.startswith('conv'):
                cout = VGG19_BLOCKS[int(name[4]) - 1][int(name[6]) - 1]
                _, h, w = feature_shape(i, height, width)
                flops += 2 * 9 * cin * cout * h * w
                cin = cout
        return flops


def _vgg_taps(layers, path, source, ctx):
    """VGG-19 features (Caffe input convention) returning the activations of `layers`."""
    from mxnet.gluon import HybridBlock

    from ..models import get_model
    from ..models.vgg19 import layer_index
    indices = [layer_index(n) for n in layers]
    features, record = get_model('vgg19', source=source, path=path, depth=max(indices) + 1,
                                 convention='caffe', ctx=ctx)

    class Taps(HybridBlock):
        def __init__(self, features, indices):
            super().__init__()
            self.features, self.indices = features, indices

        def hybrid_forward(self, F, x):
            out = {}
            for i, blk in enumerate(self.features):
                x = blk(x)
                if i in self.indices:
                    out[i] = x
            return tuple(out[i] for i in self.indices)

    taps = Taps(features, indices)
    taps.hybridize(static_alloc=True)
    record = dict(record, network='vgg19', outputs=list(layers))
    return taps, record
