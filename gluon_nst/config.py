"""Run configuration for every method: YAML loading, `--set key.path=value`
overrides, and validation before any work starts.

A config's top-level `method:` key (default `style`) picks the method; the
method's schema (its package's `schema.py`, the one source of its defaults)
says which keys exist, their types, ranges and help.  Keys every method has
(name, seed, device, threads, output.dir, ...) are built here.
"""
import copy
import difflib
import os

import yaml

from .errors import UserError

DEFAULT_METHOD = 'style'


class Field:
    """One config value: its default, type, allowed range and a help line.

    kind: int, float, bool, str, path, choice, device, floats, shape, items (a list
    of mappings validated by `item`), or custom.  `convert(value)`, if given, runs
    after the kind's checks and returns the normalised value (ValueError: the text
    says what was expected).  `words` (kind path) are values that are not paths
    (e.g. init: content).  `many` (kind path): a non-empty list of paths is accepted too.
    """

    def __init__(self, default, kind, help='', choices=None, lo=None, hi=None,
                 nullable=False, required=False, lo_open=False, words=(), convert=None,
                 item=None, check_item=None, many=False):
        self.default, self.kind, self.help = default, kind, help
        self.choices, self.lo, self.hi = choices, lo, hi
        self.nullable, self.required, self.lo_open = nullable, required, lo_open
        self.words, self.convert, self.many = tuple(words), convert, many
        self.item, self.check_item = item, check_item


def common_fields(run_name_help='run name (default: the config file name)'):
    """The keys every method's schema starts with."""
    from . import methods
    return {
        'method': Field(DEFAULT_METHOD, 'choice', 'what to run: ' + ', '.join(methods.names()),
                        choices=methods.names()),
        'name': Field(None, 'str', run_name_help, nullable=True),
        'seed': Field(0, 'int', 'random seed', lo=0),
        'device': Field('auto', 'device', 'auto, cpu or gpu:N'),
        'threads': Field(0, 'int', 'CPU threads (0: every core)', lo=0),
    }


def output_fields(**extra):
    """The `output` section: the run folder and logging, plus a method's own keys."""
    return {
        'dir': Field(None, 'path', 'run folder (default: runs/<name>, numbered if taken)',
                     nullable=True),
        'log_every': Field(50, 'int', 'with --quiet: print a log line every N steps', lo=1),
        **extra,
    }


def name_list(example):
    """A `convert` for keys that take a name or a non-empty list of names."""
    def convert(v):
        v = [v] if isinstance(v, str) else v
        if not isinstance(v, list) or not v or not all(isinstance(x, str) and x for x in v):
            raise ValueError(f'a name or a non-empty list of names (e.g. {example})')
        return v
    return convert


def _flat_keys(schema, prefix=''):
    for k, v in schema.items():
        if isinstance(v, dict):
            yield from _flat_keys(v, prefix + k + '.')
        else:
            yield prefix + k


def _fields(schema, prefix=''):
    for k, v in schema.items():
        if isinstance(v, dict):
            yield from _fields(v, prefix + k + '.')
        else:
            yield prefix + k, v


def defaults(schema):
    def build(s):
        return {k: build(v) if isinstance(v, dict) else _default(v) for k, v in s.items()}
    return build(schema)


def _default(f):
    if f.kind == 'items' and f.default is None:
        return [defaults(f.item)]
    return copy.deepcopy(f.default)


def _suggest(key, options, prefix=''):
    near = difflib.get_close_matches(key, list(options), n=1, cutoff=0.5)
    if near:
        return f"; did you mean '{prefix}{near[0]}'?"
    return f"; valid keys: {', '.join(prefix + o for o in sorted(options))}"


def _range_text(f):
    lo = '' if f.lo is None else (f'> {f.lo}' if f.lo_open else f'>= {f.lo}')
    hi = '' if f.hi is None else f'<= {f.hi}'
    return ' and '.join(t for t in (lo, hi) if t)


def yaml_number(v):
    """YAML 1.1 reads 1e4 (no dot) as a string; for number keys it means 10000."""
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    return v


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_value(key, f, v):
    """Validate and normalise one value; raise UserError naming the key."""
    def bad(expect):
        raise UserError(f"config key '{key}': got {v!r}, expected {expect}")

    if v is None:
        if f.nullable or (f.kind in ('path', 'floats') and not f.required):
            return None
        bad(f'a value ({f.help})')
    if f.kind == 'int':
        if isinstance(v, bool) or not isinstance(v, int):
            bad('an integer')
    elif f.kind == 'float':
        v = yaml_number(v)
        if not _is_number(v):
            bad('a number')
        v = float(v)
    elif f.kind == 'bool':
        if not isinstance(v, bool):
            bad('true or false')
    elif f.kind == 'str':
        if not isinstance(v, str) or not v:
            bad('a non-empty string')
    elif f.kind == 'path':
        if f.many and isinstance(v, list) and v and all(isinstance(p, str) and p for p in v):
            pass
        elif not isinstance(v, str) or not v:
            bad(' or '.join(repr(w) for w in f.words) + ' or a path' if f.words
                else 'a path or a non-empty list of paths' if f.many else 'a non-empty string')
    elif f.kind == 'choice':
        if v not in f.choices:
            near = difflib.get_close_matches(str(v), [str(c) for c in f.choices], n=1)
            bad('one of ' + ', '.join(map(str, f.choices))
                + (f" (did you mean '{near[0]}'?)" if near else ''))
    elif f.kind == 'device':
        ok = v in ('auto', 'cpu') or (isinstance(v, str) and v.startswith('gpu:')
                                      and v[4:].isdigit())
        if not ok:
            bad("'auto', 'cpu' or 'gpu:N'")
    elif f.kind == 'floats':
        v = [yaml_number(x) for x in v] if isinstance(v, list) else v
        if not isinstance(v, list) or not all(_is_number(x) for x in v):
            bad('a list of numbers')
        v = [float(x) for x in v]
    elif f.kind == 'shape':
        if (not isinstance(v, list) or len(v) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in v)):
            bad('[width, height] as two integers')
        if f.lo is not None and min(v) < f.lo:
            bad(f'a width and height of at least {f.lo} pixels ({f.help})')
        return v
    if f.kind in ('int', 'float') and v is not None:
        if f.lo is not None and (v < f.lo or (f.lo_open and v == f.lo)):
            bad('a value ' + _range_text(f))
        if f.hi is not None and v > f.hi:
            bad('a value ' + _range_text(f))
    if f.convert is not None:
        # convert(v) returns the normalised value; ValueError(expected) or UserError.
        try:
            return f.convert(v)
        except ValueError as e:
            bad(str(e))
        except UserError as e:
            raise UserError(f"config key '{key}': {e}") from None
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
        elif f.kind == 'items':
            out[k] = _validate_items(v, f, key)
        else:
            out[k] = _check_value(key, f, v)


def _validate_items(items, f, key):
    """A list of mappings (e.g. stages), each completed from the item schema's defaults."""
    if items is None:
        return [defaults(f.item)]
    if not isinstance(items, list) or not items:
        raise UserError(f"config key '{key}': expected a non-empty list of mappings")
    out = []
    for i, raw in enumerate(items):
        raw = {} if raw is None else raw
        if not isinstance(raw, dict):
            raise UserError(f"config key '{key}.{i}': expected a mapping of keys")
        item = defaults(f.item)
        _validate_section(raw, f.item, f'{key}.{i}.', item)
        if f.check_item:
            f.check_item(raw, item, f'{key}.{i}')
        out.append(item)
    return out


def _set_path(cfg, schema, dotted, value):
    """Apply one override; list items are addressed by index (stages.1.steps)."""
    parts = dotted.split('.')
    node = cfg
    for i, p in enumerate(parts[:-1]):
        if isinstance(node, list):
            if not p.isdigit() or int(p) >= len(node):
                raise UserError(f"--set {dotted}: '{'.'.join(parts[:i])}' has no item {p} "
                                f"(it has {len(node)}, numbered from 0)")
            node = node[int(p)]
            schema = schema.item if isinstance(schema, Field) else None
        else:
            if p not in node or not isinstance(node[p], (dict, list)):
                # Every section the schema allows here, not only those the file has.
                options = {k for k, v in node.items() if isinstance(v, (dict, list))}
                if isinstance(schema, dict):
                    options |= {k for k, v in schema.items()
                                if isinstance(v, dict) or (isinstance(v, Field) and v.kind == 'items')}
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
    except yaml.YAMLError as e:
        if raw.lstrip()[:1] not in ('[', '{', '"', "'"):
            return key.strip(), raw            # a plain word YAML cannot read (e.g. a: b): text
        mark = getattr(e, 'problem_mark', None)
        where = f' at character {mark.column + 1}' if mark else ''
        raise UserError(f"--set {key.strip()}: the value {raw!r} is not valid YAML{where} "
                        f"({getattr(e, 'problem', None) or e}): close every [ and {{ and quote "
                        "text with spaces") from None
    return key.strip(), value


def _path_fields(schema):
    return {k: f for k, f in _fields(schema) if f.kind == 'path'}


def _resolve_paths(data, schema, base):
    """Make relative paths absolute against `base` (the config file's folder or the cwd)."""
    for dotted, f in _path_fields(schema).items():
        node, parts = data, dotted.split('.')
        for p in parts[:-1]:
            node = node.get(p) if isinstance(node, dict) else None
        value = node.get(parts[-1]) if isinstance(node, dict) else None
        if isinstance(value, str) and value not in f.words:
            node[parts[-1]] = abs_path(value, base)
        elif isinstance(value, list):          # a list of paths (several style images)
            node[parts[-1]] = [abs_path(v, base) if isinstance(v, str) and v not in f.words
                               else v for v in value]


def abs_path(path, base):
    path = os.path.expanduser(os.path.expandvars(path))
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(base, path))


def method_of(raw):
    from . import methods
    name = raw.get('method') if isinstance(raw, dict) else None
    return methods.get(name or DEFAULT_METHOD)


def load(path=None, overrides=(), data=None):
    """Load, override and validate a config.  Returns a complete nested dict."""
    raw = {}
    if path is not None:
        raw = read_yaml(path, 'config file')
        _refuse_sweep_file(raw, path)
        _resolve_paths(raw, method_of(raw).schema, os.path.dirname(os.path.abspath(path)))
        raw.setdefault('name', os.path.splitext(os.path.basename(path))[0])
    if data:
        raw = _merge(raw, data)
    pairs = [parse_override(t) if isinstance(t, str) else t for t in overrides]
    for key, value in pairs:                # the method first: it decides the schema
        if key == 'method':
            raw['method'] = value
    method = method_of(raw)
    paths = _path_fields(method.schema)
    for key, value in pairs:
        f = paths.get(key)
        if f is not None and isinstance(value, str) and value not in f.words:
            value = abs_path(value, os.getcwd())     # paths on the command line: from the cwd
        elif f is not None and f.many and isinstance(value, list):
            value = [abs_path(v, os.getcwd()) if isinstance(v, str) else v for v in value]
        _ensure_sections(raw, method.schema, key)
        _set_path(raw, method.schema, key, value)
    cfg = defaults(method.schema)
    _validate_section(raw, method.schema, '', cfg)
    for key, f in _fields(method.schema):
        if f.required and _get(cfg, key) is None:
            raise UserError(f"config: '{key}' is required: set it in the YAML file or with "
                            f"--set {key}=PATH")
    method.check(cfg)
    return cfg


def _refuse_sweep_file(raw, path):
    """A sweep file (base: plus grid:/zip:) given where a config goes: say how to run it."""
    if 'base' in raw and ('grid' in raw or 'zip' in raw) and 'base' not in method_of(raw).schema:
        raise UserError(f'{path} is a sweep file (base: with grid:/zip:), not a config: run it with '
                        f'python scripts/sweep.py {path} (or gluon-nst sweep {path})')


def read_yaml(path, what):
    if os.path.isdir(path):
        import glob
        found = sorted(glob.glob(os.path.join(path, '*.yaml')))
        raise UserError(f'{what} {path} is a folder: give a config file'
                        + (f', e.g. {found[0]}' if found else ' (a .yaml file; see configs/)'))
    if not os.path.isfile(path):
        raise UserError(f'{what} {path} does not exist: give the path of a YAML file '
                        '(see configs/)')
    try:
        with open(path) as f:
            raw = yaml.safe_load(f) or {}
    except OSError as e:
        raise UserError(f'{what} {path} cannot be read ({e.strerror}): check its '
                        'permissions') from None
    except yaml.YAMLError as e:
        mark = getattr(e, 'problem_mark', None)
        where = f' at line {mark.line + 1}' if mark else ''
        raise UserError(f'{what} {path} is not valid YAML{where}: '
                        f'{getattr(e, "problem", e)}') from None
    if not isinstance(raw, dict):
        raise UserError(f'{what} {path} must be a YAML mapping of keys to values')
    return raw


def _get(cfg, dotted):
    node = cfg
    for p in dotted.split('.'):
        node = node.get(p) if isinstance(node, dict) else None
    return node


def _ensure_sections(raw, schema, dotted):
    """Create what an override needs: intermediate mappings, or a list of items from
    its defaults (`stages.0.steps` on a config that has no stages)."""
    node = raw
    for p in dotted.split('.')[:-1]:
        f = schema.get(p) if isinstance(schema, dict) else None
        if isinstance(f, Field) and f.kind == 'items':
            if not node.get(p):
                node[p] = [defaults(f.item)]
            return
        if not isinstance(f, dict):
            return
        if node.get(p) is None:
            node[p] = {}
        node, schema = node[p], f


def _merge(a, b):
    out = copy.deepcopy(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def dump(cfg):
    return yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None)


def describe(method=DEFAULT_METHOD):
    """Every key of a method with its default and help (for --help-config METHOD)."""
    from . import methods
    schema = methods.get(method).schema
    lines = [f'# method: {method}']

    def walk(s, prefix):
        for k, f in s.items():
            if isinstance(f, dict):
                walk(f, prefix + k + '.')
            elif f.kind == 'items':
                lines.append(f'{prefix + k:28s} {"[...]":22s} {f.help}')
                walk(f.item, f'{prefix + k}.N.')
            else:
                lines.append(f'{prefix + k:28s} {f.default!r:22s} {f.help}')
    walk(schema, '')
    return '\n'.join(lines)


def leaf_keys(method=DEFAULT_METHOD):
    """{last name: [dotted keys]} of a method's schema (for keyword APIs)."""
    from . import methods
    out = {}
    for dotted, f in _fields(methods.get(method).schema):
        out.setdefault(dotted.split('.')[-1], []).append(dotted)
        if f.kind == 'items':
            for sub, _ in _fields(f.item):
                out.setdefault(sub, []).append(f'{dotted}.0.{sub}')
    return out
