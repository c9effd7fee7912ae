"""The hash-checked model store shared by every network.

A model file is found, in order: the config's `weights.path` (a file, or a
folder holding it or its `<subdir>/` of the shared layout), the environment
variable GLUON_NST_WEIGHTS, the cache (`$GLUON_NST_HOME` or
~/.cache/gluon_nst), then a download with a progress bar.  Every file is
checked against its published hash before use; a wrong one stops the run with
the expected hash in the error.  Converted networks are cached as Gluon
parameter files with a sha256 sidecar (`cached_params`).
"""
import hashlib
import os
import shutil
import tempfile
import zipfile

from ..errors import UserError

ENV_WEIGHTS = 'GLUON_NST_WEIGHTS'
ENV_HOME = 'GLUON_NST_HOME'


def cache_dir():
    root = os.environ.get(ENV_HOME) or os.path.join(os.path.expanduser('~'), '.cache', 'gluon_nst')
    try:
        os.makedirs(root, exist_ok=True)
    except OSError as e:
        raise UserError(f'cannot create the weights cache {root} ({e.strerror}): set '
                        f'{ENV_HOME} to a writable folder') from None
    return root


def file_hash(path, hash_name='sha256', chunk=1 << 20):
    h = hashlib.new(hash_name)
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


def _check(path, spec, origin):
    if not os.path.isfile(path):
        raise UserError(f'weights file {path} ({origin}) does not exist: point it at '
                        f'{spec["filename"]} or a folder holding it')
    try:
        got = file_hash(path, spec['hash_name'])
    except OSError as e:
        raise UserError(f'weights file {path} ({origin}) cannot be read ({e.strerror}): '
                        'check its permissions') from None
    if got != spec['hash']:
        raise UserError(f'weights file {path} ({origin}) has {spec["hash_name"]} {got[:16]}..., '
                        f'expected {spec["hash"]}'
                        + (f' (md5 {spec["md5"]})' if 'md5' in spec else '') +
                        ': the file is wrong or corrupt; '
                        f'replace it with {spec["filename"]}')
    return path


def _explicit(path, spec, origin):
    path = os.path.expanduser(path)
    if os.path.isdir(path):
        path = os.path.join(path, spec['filename'])
        if not os.path.isfile(path):
            # Also accept the shared layout: <folder>/<subdir>/<file>.
            alt = os.path.join(os.path.dirname(path), spec.get('subdir', ''), spec['filename'])
            path = alt if os.path.isfile(alt) else path
    return _check(path, spec, origin)


def _temporary_file(dest, suffix):
    """A new file beside `dest`, with the mode a plain open() would give (mkstemp's is 0600)."""
    fd, tmp = tempfile.mkstemp(suffix=suffix, dir=os.path.dirname(dest))
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return tmp


def _download(url, dest):
    """Download with a progress bar to a temporary name, then move into place."""
    import urllib.request
    from tqdm import tqdm
    tmp = _temporary_file(dest, '.part')   # unique: parallel runs may download at once
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(tmp, 'wb') as f:
            total = int(r.headers.get('Content-Length') or 0) or None
            with tqdm(total=total, unit='B', unit_scale=True, desc=os.path.basename(dest)) as bar:
                for block in iter(lambda: r.read(1 << 20), b''):
                    f.write(block)
                    bar.update(len(block))
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise UserError(f'could not download {url} ({e.__class__.__name__}: {e}); without internet, '
                        f'set weights.path or {ENV_WEIGHTS} to a local copy') from None
    os.replace(tmp, dest)


def weights_file(spec, path=None):
    """Return (path, origin) of the verified file that `spec` describes: a dict with
    filename, url (None: no download), hash_name, hash, optional md5, subdir (shared
    layout), archive ('zip': the url is a zip holding the file) and origin."""
    if path:
        return _explicit(path, spec, 'weights.path'), 'config'
    if os.environ.get(ENV_WEIGHTS):
        return _explicit(os.environ[ENV_WEIGHTS], spec, ENV_WEIGHTS), 'env'
    cached = os.path.join(cache_dir(), spec['filename'])
    if os.path.isfile(cached) and file_hash(cached, spec['hash_name']) == spec['hash']:
        return cached, 'cache'
    if not spec.get('url'):                  # published only inside a package, no address
        origin = f' (from {spec["origin"]})' if spec.get('origin') else ''
        raise UserError(f'{spec["filename"]} not found: set weights.path (or {ENV_WEIGHTS}) to a '
                        f'folder holding it, e.g. ../shared/weights{origin}')
    if spec.get('archive') == 'zip':
        _download(spec['url'], cached + '.zip')
        with zipfile.ZipFile(cached + '.zip') as zf, tempfile.TemporaryDirectory(dir=cache_dir()) as t:
            zf.extractall(t)
            shutil.move(os.path.join(t, spec['filename']), cached)
        os.remove(cached + '.zip')
    else:
        _download(spec['url'], cached)
    return _check(cached, spec, 'download'), 'download'


def cached_params(name, source_digest, build):
    """A converted network's parameters, cached as `<name>-<digest[:8]>.params` with a
    sha256 sidecar: `build()` returns {name: numpy array} and runs once per source file.
    Returns {name: numpy array}."""
    import mxnet as mx
    dest = os.path.join(cache_dir(), f'{name}-{source_digest[:8]}.params')
    if os.path.isfile(dest) and os.path.isfile(dest + '.sha256'):
        with open(dest + '.sha256') as f:
            if f.read().strip() == file_hash(dest):
                return {k: v.asnumpy() for k, v in mx.nd.load(dest).items()}
    arrays = build()
    # Unique temporary names: parallel runs (sweeps) may convert at the same time.
    tmp = _temporary_file(dest, '.params')
    mx.nd.save(tmp, {k: mx.nd.array(v) for k, v in arrays.items()})
    digest_tmp = tmp + '.sha256'
    with open(digest_tmp, 'w') as f:
        f.write(file_hash(tmp))
    os.replace(tmp, dest)
    os.replace(digest_tmp, dest + '.sha256')
    return arrays
