"""Feature networks behind one interface: the frozen convolutional trunk of a
pretrained network, returning its activations at named layers ("taps").

`network(name)` describes a network without loading it (layer names, strides,
channels, map sizes, FLOPs, memory per pixel: what the config checks and the
memory check need before any weights are read); `load(name, layers, ...)`
returns a `FeatureNet`, the network with its verified weights, whose call
returns the taps' activations in the order asked for.

Each network lives in its own module (vgg19.py, googlenet.py) as a subclass of
`Network` named `FEATURES` there; adding one is a module and a line in `NETWORKS`.

Conventions, stated once:
- sizes are (width, height), as Pillow and `mx.image.imresize` take them;
  arrays keep numpy's layouts ((H, W, 3) images, (1, C, H, W) network tensors);
- `to_input` takes an RGB image in 0..255 (float or uint8, (H, W, 3)) and gives
  the network's input; `to_pixels` maps a gradient with respect to that input
  back to a gradient with respect to the 0..255 RGB pixels.
"""
import importlib

import numpy as np

from ..errors import UserError

NETWORKS = ('vgg19', 'googlenet')


class Network:
    """What a feature network is, without its weights.  Subclasses set `name`,
    `bytes_per_pixel` and implement the layer arithmetic."""

    name = None
    # Peak bytes per input pixel of one forward and backward pass to the image
    # (activations kept for the backward, gradients, workspace): the memory checks' rate.
    bytes_per_pixel = None

    def resolve(self, layers):
        """Canonical names of `layers` (names, aliases or indices), or a UserError that
        suggests the nearest."""
        raise NotImplementedError

    def stride(self, layer):
        """Input pixels per cell of `layer`'s map."""
        raise NotImplementedError

    def channels(self, layer):
        raise NotImplementedError

    def feature_size(self, layer, size):
        """(width, height) of `layer`'s map for an input of size (width, height)."""
        raise NotImplementedError

    def forward_flops(self, layers, size):
        """Multiply-adds x2 of one forward pass up to the deepest of `layers`."""
        raise NotImplementedError

    def input_affine(self, convention):
        """(perm, a, b): input channel k = a[k] * rgb01[perm[k]] + b[k]."""
        raise NotImplementedError

    def build(self, layers, *, path, source, convention, pooling, ctx):
        """(extractor factory, record): factory() returns a fresh HybridBlock over the same
        frozen weights, returning the taps' activations (a list, in order)."""
        raise NotImplementedError

    def deepest(self, layers):
        return max(self.resolve(layers), key=self.stride)

    def min_side(self, layers):
        """The smallest input side worth using: two cells of the coarsest tap's grid."""
        return 2 * self.stride(self.deepest(layers))


def network(name):
    """The `Network` called `name` (its module imported on use)."""
    if name not in NETWORKS:
        raise UserError(f'unknown feature network {name!r}: use one of {", ".join(NETWORKS)}')
    return importlib.import_module(f'{__package__}.{name}').FEATURES


class FeatureNet:
    """A loaded feature network: `net(x)` -> [activation of each tap], x in the network's
    input convention ((1, 3, H, W) NDArray or numpy)."""

    def __init__(self, spec, layers, factory, record, affine, ctx):
        self.spec, self.layers, self.record, self.ctx = spec, layers, record, ctx
        self.network = spec.name
        self.bytes_per_pixel = spec.bytes_per_pixel
        self._factory = factory
        self._block = None
        perm, a, b = affine
        self._perm = np.asarray(perm)
        self._gain = (np.asarray(a, np.float64) / 255.0).astype(np.float32)   # per 0..255 unit
        self._offset = np.asarray(b, np.float32)
        self._unit = bool(np.all(self._gain == 1.0))

    def extractor(self):
        """A fresh (not hybridized) block returning the taps: for an objective that
        compiles it into its own graph."""
        return self._factory()

    def __call__(self, x):
        import mxnet as mx
        if self._block is None:
            self._block = self._factory()
            self._block.hybridize(static_alloc=True)
        if not isinstance(x, mx.nd.NDArray):
            x = mx.nd.array(x, ctx=self.ctx)
        out = self._block(x)
        return list(out) if isinstance(out, (list, tuple)) else [out]

    def to_input(self, rgb):
        """(H, W, 3) RGB 0..255 -> (1, 3, H, W) float32 network input (numpy)."""
        x = np.asarray(rgb, np.float32)[..., self._perm]
        if not self._unit:
            x = x * self._gain
        x = x + self._offset
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None])

    def to_pixels(self, grad):
        """A gradient in input space (1, 3, H, W) -> the gradient in 0..255 RGB pixels (H, W, 3)."""
        g = np.asarray(grad)[0].transpose(1, 2, 0)
        if not self._unit:
            g = g * self._gain
        return np.ascontiguousarray(g[..., np.argsort(self._perm)])

    def stride(self, layer):
        return self.spec.stride(layer)

    def channels(self, layer):
        return self.spec.channels(layer)

    def feature_size(self, layer, size):
        return self.spec.feature_size(layer, size)

    def forward_flops(self, size):
        """Forward multiply-adds x2 up to the deepest tap for an input of size (width, height)."""
        return self.spec.forward_flops(self.layers, size)


def load(name, layers, *, path=None, source=None, convention=None, pooling='max', ctx=None):
    """The frozen network `name` with its verified weights, returning `layers` (a list of
    names, aliases or indices; repeats allowed).  source, convention and pooling: where the
    network offers a choice (VGG-19: weights source, input convention folded into conv1_1,
    max or avg pooling); None: the network's default."""
    import mxnet as mx
    spec = network(name)
    ctx = ctx or mx.cpu()
    names = spec.resolve(layers)
    factory, record, convention = spec.build(names, path=path, source=source, convention=convention,
                                             pooling=pooling, ctx=ctx)
    return FeatureNet(spec, names, factory, record, spec.input_affine(convention), ctx)
