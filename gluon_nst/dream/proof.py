"""The conversion proof: real photographs that packages ship, classified by the
converted BVLC GoogLeNet, top-5 with class names and probabilities.

    python -m gluon_nst.dream.proof [--weights ../shared/weights] [--markdown]

Photographs: scikit-image's `chelsea` (a tabby cat) and `coffee` (an espresso),
matplotlib's `grace_hopper.jpg` (in US Navy uniform).  tests/test_dream_network.py
asserts that each one's label is in its top 5.
"""
import argparse
import os

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get('GLUON_NST_SHARED', os.path.join(ROOT, '..', 'shared'))


def photos():
    """{name: (RGB uint8, expected class index, expected class name)}."""
    import matplotlib.cbook as cbook
    from PIL import Image
    from skimage import data
    with cbook.get_sample_data('grace_hopper.jpg') as f:
        hopper = np.asarray(Image.open(f).convert('RGB'))
    return {'scikit-image data.chelsea()': (data.chelsea(), 281, 'tabby, tabby cat'),
            'scikit-image data.coffee()': (data.coffee(), 967, 'espresso'),
            'matplotlib grace_hopper.jpg': (hopper, 652, 'military uniform')}


def main(argv=None):
    from gluon_nst import runtime
    runtime.configure_threads()           # before MXNet is imported
    from gluon_nst.models import googlenet
    ap = argparse.ArgumentParser(prog='python -m gluon_nst.dream.proof')
    ap.add_argument('--weights', default=os.path.join(SHARED, 'weights'))
    ap.add_argument('--markdown', action='store_true', help='a Markdown table')
    args = ap.parse_args(argv)
    net, _ = googlenet.get_model(['prob'], path=args.weights)
    words = googlenet.synset_words(args.weights)
    if args.markdown:
        print('| photograph (label) | top-5 (probability) |')
        print('| --- | --- |')
    for name, (rgb, label, _) in photos().items():
        top = googlenet.classify(net, rgb)
        cells = ', '.join(('**%s**' if i == label else '%s') % f'{words[i].split(",")[0]} {p:.3f}'
                          for i, p in top)
        if args.markdown:
            print(f'| {name} ({words[label].split(",")[0]}, {label}) | {cells} |')
        else:
            print(f'{name}: expected {label} {words[label]!r}; top-5: {cells}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
