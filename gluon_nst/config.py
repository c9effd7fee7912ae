"""Run configuration: the schema (the one source of defaults), YAML loading,
`--set key.path=value` overrides, and validation before any work starts.

The defaults are the book's (D2L press edition) numbers.
"""
import copy
import difflib
import os

import yaml

from .errors import UserError


class Field:
    """One config value: its default, type, allowed range and a help line."""

    def __init__(self, default, kind, help='', choices=None, lo=None, hi=None,
                 nullable=False, required=False, lo_open=False):
        self.default, self.kind, self.help = default, kind, help
        self.choices, self.lo, self.hi = choices, lo, hi
        self.nullable, self.required, self.lo_open = nullable, required, lo_open


STAGE = {
    'image_shape': Field([300, 200], 'shape', 'image [width, height] of this stage',
                         nullable=True),
    'longest_side': Field(None, 'int', 'instead of image_shape: longest side in pixels, '
                          'the other from the content aspect ratio', lo=16, nullable=True),
    'style_longest_side': Field(None, 'int', 'style image at this longest side, aspect kept '
                                '(default: stretched to the stage shape, as the book)', lo=16,
                                nullable=True),
    'epochs': Field(500, 'int', 'optimisation steps (L-BFGS: rounds)', lo=1),
    'lr': Field(0.01, 'float', 'learning rate (Adam)', lo=0, lo_open=True),
    'lr_decay_epoch': Field(200, 'int', 'multiply lr by lr_decay_factor after step i '
                            'when i % lr_decay_epoch == 0 and i != 0 (0: never)', lo=0),
    'lr_decay_factor': Field(0.1, 'float', 'lr decay factor', lo=0, hi=1, lo_open=True),
}

SCHEMA = {
    'name': Field(None, 'str', 'run name (default: the config file name)', nullable=True),
    'content_image': Field(None, 'path', 'content image file', required=True),
    'style_image': Field(None, 'path', 'style image file', required=True),
    'seed': Field(0, 'int', 'random seed (noise init)', lo=0),
    'device': Field('auto', 'device', 'auto, cpu or gpu:N'),
    'threads': Field(0, 'int', 'CPU threads for MXNet (0: every core)', lo=0),
    'init': Field('content', 'init', 'starting image: content, noise, or an image file'),
    'weights': {
        'source': Field('caffe-vgg19', 'choice', 'pretrained VGG-19 weights',
                        choices=['caffe-vgg19', 'mxnet-zoo']),
        'path': Field(None, 'path', 'local weights file or folder (else $GLUON_NST_WEIGHTS, '
                      'the cache, a download)', nullable=True),
        'feature_scale': Field('calibrated', 'scale', "per-layer feature divisors: 'calibrated', "
                               "'none', a number, or a list (one per content+style layer)"),
    },
    'preprocess': {
        'convention': Field('book', 'choice', 'image representation the optimiser sees: book '
                            '(RGB 0..1, ImageNet mean/std), caffe (BGR 0..255 minus means) or '
                            'rgb01 (RGB 0..1)', choices=['book', 'caffe', 'rgb01']),
    },
    'layers': {
        'content': Field([25], 'layers', 'content layers: indices or names (conv4_2, relu4_2, '
                         'block4_conv2)'),
        'style': Field([0, 5, 10, 19, 28], 'layers', 'style layers: indices or names'),
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
        'tv_form': Field('l1_mean', 'choice', 'TV: l1_mean (book) or keras (power form)',
                         choices=['l1_mean', 'keras']),
        'tv_power': Field(1.25, 'float', 'exponent of the keras TV form', lo=0, lo_open=True),
    },
    'optimizer': {
        'name': Field('adam', 'choice', 'adam (gluon.Trainer) or lbfgs (scipy L-BFGS-B)',
                      choices=['adam', 'lbfgs']),
        'beta1': Field(0.9, 'float', 'Adam beta1', lo=0, hi=1),
        'beta2': Field(0.999, 'float', 'Adam beta2', lo=0, hi=1),
        'epsilon': Field(1e-8, 'float', 'Adam epsilon', lo=0, lo_open=True),
        'clip': Field(False, 'bool', 'clip the image to the valid pixel range after every step'),
        'keep_best': Field(False, 'bool', 'keep the lowest-loss image as the result'),
        'lbfgs_maxfun': Field(20, 'int', 'L-BFGS function evaluations per round', lo=1),
        'lbfgs_history': Field(10, 'int', 'L-BFGS memory (corrections kept)', lo=1),
    },
    'stages': Field(None, 'stages', 'coarse-to-fine stages (default: one stage of stage defaults)'),
    'output': {
        'dir': Field(None, 'path', 'run folder (default: runs/<name>, numbered if taken)',
                     nullable=True),
        'save_every': Field(0, 'int', 'also save the image every N steps (0: per stage only)', lo=0),
        'sync_every': Field(10, 'int', 'read losses from the device every N steps', lo=1),
        'log_every': Field(50, 'int', 'with --quiet: print a log line every N steps', lo=1),
    },
}

PATH_KEYS = ('content_image', 'style_image', 'weights.path', 'output.dir')


def _flat_keys(schema=SCHEMA, prefix=''):
    for k, v in schema.items():
        if isinstance(v, dict):
            yield from _flat_keys(v, prefix + k + '.')
        else:
            yield prefix + k


def defaults():
    def build(schema):
        return {k: build(v) if isinstance(v, dict) else copy.deepcopy(v.default)
                for k, v in schema.items()}
    cfg = build(SCHEMA)
    cfg['stages'] = [stage_defaults()]
    return cfg


def stage_defaults():
    return {k: copy.deepcopy(f.default) for k, f in STAGE.items()}


def _suggest(key, options, prefix=''):
    near = difflib.get_close_matches(key, list(options), n=1, cutoff=0.5)
    if near:
        return f"; did you mean '{prefix}{near[0]}'?"
    return f"; valid keys: {', '.join(prefix + o for o in sorted(options))}"


def _range_text(f):
    lo = '' if f.lo is None else (f'> {f.lo}' if f.lo_open else f'>= {f.lo}')
    hi = '' if f.hi is None else f'<= {f.hi}'
    return ' and '.join(t for t in (lo, hi) if t)


def _yaml_number(v):
    """YAML 1.1 reads 1e4 (no dot) as a string; for number keys it means 10000."""
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    return v


def _check_value(key, f, v):
    """Validate and normalise one value; raise UserError naming the key."""
    def bad(expect):
        raise UserError(f"config key '{key}': got {v!r}, expected {expect}")

    if v is None:
        if f.nullable or (f.kind in ('path', 'floats', 'stages') and not f.required):
            return None
        bad(f'a value ({f.help})')
    if f.kind == 'int':
        if isinstance(v, bool) or not isinstance(v, int):
            bad('an integer')
    elif f.kind == 'float':
        v = _yaml_number(v)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            bad('a number')
        v = float(v)
    elif f.kind == 'bool':
        if not isinstance(v, bool):
            bad('true or false')
    elif f.kind in ('str', 'path'):
        if not isinstance(v, str) or not v:
            bad('a non-empty string')
    elif f.kind == 'choice':
        if v not in f.choices:
            bad('one of ' + ', '.join(map(str, f.choices)))
    elif f.kind == 'device':
        ok = v in ('auto', 'cpu') or (isinstance(v, str) and v.startswith('gpu:')
                                      and v[4:].isdigit())
        if not ok:
            bad("'auto', 'cpu' or 'gpu:N'")
    elif f.kind == 'init':
        if not isinstance(v, str) or not v:
            bad("'content', 'noise' or an image file")
        if v not in ('content', 'noise') and not os.path.isfile(v):
            bad("'content', 'noise' or an existing image file")
    elif f.kind == 'layers':
        v = [v] if isinstance(v, (int, str)) and not isinstance(v, bool) else v
        if not isinstance(v, list) or not all(isinstance(x, (int, str)) and not isinstance(x, bool)
                                              for x in v):
            bad('a list of layer indices or names')
        from .network import layer_index
        try:
            v = [layer_index(x) for x in v]
        except UserError as e:
            raise UserError(f"config key '{key}': {e}") from None
    elif f.kind == 'floats':
        v = [_yaml_number(x) for x in v] if isinstance(v, list) else v
        if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                              for x in v):
            bad('a list of numbers')
        v = [float(x) for x in v]
    elif f.kind == 'scale':
        if v in ('calibrated', 'none'):
            return v
        v = [_yaml_number(x) for x in v] if isinstance(v, list) else _yaml_number(v)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
            return float(v)
        if isinstance(v, list) and v and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                             and x > 0 for x in v):
            return [float(x) for x in v]
        bad("'calibrated', 'none', a positive number or a list of them")
    elif f.kind == 'shape':
        if (not isinstance(v, list) or len(v) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in v)):
            bad('[width, height] as two integers')
        if min(v) < 16:
            bad('a width and height of at least 16 pixels (VGG-19 halves the image 4 times)')
    if f.kind in ('int', 'float') and v is not None:
        if f.lo is not None and (v < f.lo or (f.lo_open and v == f.lo)):
            bad('a value ' + _range_text(f))
        if f.hi is not None and v > f.hi:
            bad('a value ' + _range_text(f))
    return v


def _validate_section(data, schema, prefix, out):
    if not isinstance(data, dict):
        raise UserError(f"config section '{prefix.rstrip('.') or 'top level'}' must be a mapping "
                        f"of keys to values, got {type(data).__name__}")
    for k, v in data.items():
        key = prefix + str(k)
        if k not in schema:
            raise UserError(f"config: unknown key '{key}'" + _suggest(str(k), schema.keys(), prefix))
        f = schema[k]
        if isinstance(f, dict):
            _validate_section(v if v is not None else {}, f, key + '.', out[k])
        elif f.kind == 'stages':
            out[k] = _validate_stages(v, key)
        else:
            out[k] = _check_value(key, f, v)


def _validate_stages(stages, key):
    if stages is None:
        return [stage_defaults()]
    if not isinstance(stages, list) or not stages:
        raise UserError(f"config key '{key}': expected a non-empty list of stages")
    out = []
    for i, st in enumerate(stages):
        s = stage_defaults()
        if st is None:
            st = {}
        if not isinstance(st, dict):
            raise UserError(f"config key '{key}.{i}': expected a mapping of stage keys")
        _validate_section(st, STAGE, f'{key}.{i}.', s)
        if st.get('longest_side') is not None and 'image_shape' in st and st['image_shape']:
            raise UserError(f"config key '{key}.{i}': give image_shape or longest_side, not both")
        if s['longest_side'] is not None:
            s['image_shape'] = None
        elif s['image_shape'] is None:
            raise UserError(f"config key '{key}.{i}': give image_shape [W, H] or longest_side")
        out.append(s)
    return out


def _set_path(cfg, dotted, value):
    """Apply one override; list items are addressed by index (stages.1.epochs)."""
    parts = dotted.split('.')
    node, schema = cfg, SCHEMA
    for i, p in enumerate(parts[:-1]):
        if isinstance(node, list):
            if not p.isdigit() or int(p) >= len(node):
                raise UserError(f"--set {dotted}: '{'.'.join(parts[:i])}' has no item {p} "
                                f"(it has {len(node)}, numbered from 0)")
            node = node[int(p)]
        else:
            if p not in node or not isinstance(node[p], (dict, list)):
                # Every section the schema allows here, not only those the file has.
                options = {k for k, v in node.items() if isinstance(v, (dict, list))}
                if isinstance(schema, dict):
                    options |= {k for k, v in schema.items() if isinstance(v, dict)}
                    options |= {'stages'} if schema is SCHEMA else set()
                raise UserError(f"--set {dotted}: unknown section '{p}'" + _suggest(p, options))
            node = node[p]
            schema = schema.get(p) if isinstance(schema, dict) else None
    last = parts[-1]
    value = copy.deepcopy(value)          # later overrides must not edit the caller's objects
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise UserError(f'--set {dotted}: no item {last} (there are {len(node)})')
        node[int(last)] = value
    else:
        node[last] = value


def parse_override(text):
    if '=' not in text:
        raise UserError(f"--set {text!r}: expected key.path=value, e.g. loss.style_weight=1e4")
    key, raw = text.split('=', 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def _resolve_paths(data, base):
    """Make relative paths absolute against `base` (the config file's folder or the cwd)."""
    for dotted in PATH_KEYS:
        node, parts = data, dotted.split('.')
        for p in parts[:-1]:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(parts[-1]), str):
            node[parts[-1]] = _abs(node[parts[-1]], base)
    if isinstance(data.get('init'), str) and data['init'] not in ('content', 'noise'):
        data['init'] = _abs(data['init'], base)


def _abs(path, base):
    path = os.path.expanduser(os.path.expandvars(path))
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(base, path))


def load(path=None, overrides=(), data=None):
    """Load, override and validate a config.  Returns a complete nested dict."""
    raw = {}
    if path is not None:
        if not os.path.isfile(path):
            raise UserError(f'config file {path} does not exist: give the path of a YAML file '
                            '(see configs/)')
        try:
            with open(path) as f:
                raw = yaml.safe_load(f) or {}
        except OSError as e:
            raise UserError(f'config file {path} cannot be read ({e.strerror}): check its '
                            'permissions') from None
        except yaml.YAMLError as e:
            mark = getattr(e, 'problem_mark', None)
            where = f' at line {mark.line + 1}' if mark else ''
            raise UserError(f'config file {path} is not valid YAML{where}: '
                            f'{getattr(e, "problem", e)}') from None
        if not isinstance(raw, dict):
            raise UserError(f'config file {path} must be a YAML mapping of keys to values')
        _resolve_paths(raw, os.path.dirname(os.path.abspath(path)))
        raw.setdefault('name', os.path.splitext(os.path.basename(path))[0])
    if data:
        raw = _merge(raw, data)
    for text in overrides:
        key, value = parse_override(text) if isinstance(text, str) else text
        if key.startswith('stages.') and not raw.get('stages'):
            raw['stages'] = [stage_defaults()]
        if (key in PATH_KEYS or key == 'init') and isinstance(value, str) \
                and value not in ('content', 'noise'):
            value = _abs(value, os.getcwd())     # paths on the command line: from the cwd
        _ensure_sections(raw, key)
        _set_path(raw, key, value)
    cfg = defaults()
    _validate_section(raw, SCHEMA, '', cfg)
    for key in ('content_image', 'style_image'):
        if cfg[key] is None:
            raise UserError(f"config: '{key}' is required: set it in the YAML file or with "
                            f"--set {key}=PATH")
    _check_layer_weights(cfg)
    return cfg


def _ensure_sections(raw, dotted):
    """Create the intermediate mappings an override needs (sections only)."""
    node, schema = raw, SCHEMA
    for p in dotted.split('.')[:-1]:
        if not (isinstance(schema, dict) and isinstance(schema.get(p), dict)):
            return
        if node.get(p) is None:
            node[p] = {}
        node, schema = node[p], schema[p]


def _merge(a, b):
    out = copy.deepcopy(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _check_layer_weights(cfg):
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


def dump(cfg):
    return yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None)


def describe():
    """Every key with its default and help (for --help-config)."""
    lines = []

    def walk(schema, prefix):
        for k, f in schema.items():
            if isinstance(f, dict):
                walk(f, prefix + k + '.')
            else:
                lines.append(f'{prefix + k:28s} {f.default!r:22s} {f.help}')
    walk(SCHEMA, '')
    walk(STAGE, 'stages.N.')
    return '\n'.join(lines)
