"""Per-layer feature divisors that give the Caffe VGG-19 the book's loss balance.

The book's loss weights belong to the MXNet model zoo's VGG-19, whose features are about
100x smaller than the Caffe weights' and grow differently with resolution: features
divided by s_l give content losses divided by s_c^2 and style losses divided by s_l^4.
The table below was fitted by `gluon_nst.style.calibrate` (python scripts/calibrate.py;
docs/reproducing.md, "Calibration").
"""

import numpy as np

# Per-layer feature divisors that give the Caffe weights the book's loss
# scale (docs/reproducing.md, "Calibration").  Fitted by gluon_nst.style.calibrate against
# ../shared/d2l/press_losses.txt at the book's two stage sizes; the two
# networks' features do not grow alike with resolution, so the divisor of a
# layer runs log-linearly in the pixel count between those sizes (constant
# outside them).  Layers not listed (other choices of layers) use
# DEFAULT_CAFFE_SCALE, the single divisor that gives the book's step-0 style loss.
CALIBRATION_PIXELS = (300 * 200, 1200 * 800)
CAFFE_FEATURE_SCALE = {25: (144.083, 115.892), 0: (94.817, 99.435), 5: (67.554, 120.759),
                       10: (142.359, 174.406), 19: (105.300, 96.235), 28: (90.975, 100.335)}
DEFAULT_CAFFE_SCALE = 105.125


def calibrated_scale(anchors, pixels):
    """A layer's divisor at `pixels`: log-linear in log(pixels) between the anchors."""
    lo, hi = CALIBRATION_PIXELS
    t = min(max((np.log(pixels) - np.log(lo)) / (np.log(hi) - np.log(lo)), 0.0), 1.0)
    return float(np.exp((1 - t) * np.log(anchors[0]) + t * np.log(anchors[1])))


def feature_scales(source, layers, setting, pixels=CALIBRATION_PIXELS[0]):
    """Per-layer divisors applied to extracted features, for an image of `pixels`.

    setting: 'calibrated' (the source's table), 'none', a number, or a list per layer.
    """
    if setting == 'none':
        return [1.0] * len(layers)
    if setting == 'calibrated':
        if source != 'caffe-vgg19':
            return [1.0] * len(layers)
        return [calibrated_scale(CAFFE_FEATURE_SCALE[i], pixels) if i in CAFFE_FEATURE_SCALE
                else DEFAULT_CAFFE_SCALE for i in layers]
    if isinstance(setting, (int, float)):
        return [float(setting)] * len(layers)
    return [float(s) for s in setting]
