"""`python -m gluon_nst.fast.bench_pass`: one size of `gluon-nst bench fast`: load the
Magenta graphs, time the style vector (best of 3) and the transformer's pass at
WxH (median of --repeats after a warm-up, in which ONNX Runtime plans the shape)."""
import argparse
import statistics
import time

from ..benchmark import emit
from ..runtime import peak_rss_mb


def main(argv=None):
    ap = argparse.ArgumentParser(prog='python -m gluon_nst.fast.bench_pass')
    ap.add_argument('--width', type=int, required=True)
    ap.add_argument('--height', type=int, required=True)
    ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--threads', type=int, default=0)
    ap.add_argument('--weights', help='folder holding magenta/')
    ap.add_argument('--content', required=True)
    ap.add_argument('--style', required=True)
    ap.add_argument('--precision', default='float', help="the transformer's activations: float or int8")
    args = ap.parse_args(argv)
    from ..image_io import read_rgb
    from ..models import magenta
    w, h = args.width, args.height
    t = time.perf_counter()
    m = magenta.load(args.weights, args.threads, precision=args.precision)
    load_s = time.perf_counter() - t
    content = magenta.resize(read_rgb(args.content), w, h)
    style = read_rgb(args.style)
    ts = []
    for _ in range(3):
        t = time.perf_counter()
        v = m.style_vector(style)
        ts.append(time.perf_counter() - t)
    rss_loaded = peak_rss_mb()
    m.transform(content, v)
    times = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        out = m.transform(content, v)
        times.append(time.perf_counter() - t)
    assert out.shape == (h, w, 3)
    emit(load_s=load_s, style_vector_s=min(ts), median_step_s=statistics.median(times),
         min_s=min(times), threads=m.threads, loaded_rss_mb=rss_loaded)


if __name__ == '__main__':
    main()
