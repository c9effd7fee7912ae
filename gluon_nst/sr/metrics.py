"""PSNR as the SRCNN evaluation computes it (demo_SR.m, compute_psnr.m): on Y,
both images as 8-bit values, a border as wide as the scale shaved off."""
import numpy as np


def shave(img, border):
    return img[border:img.shape[0] - border, border:img.shape[1] - border] if border else img


def quantize(img01):
    """0..1 float -> the 0..255 integers MATLAB's uint8(x * 255) gives."""
    return np.clip(np.round(np.asarray(img01, dtype=np.float64) * 255.0), 0, 255)


def psnr(a, b, border=0, peak=255.0):
    """PSNR in dB of two arrays on a 0..peak scale, `border` pixels shaved off each side."""
    a = shave(np.asarray(a, dtype=np.float64), border)
    b = shave(np.asarray(b, dtype=np.float64), border)
    if a.shape != b.shape:
        raise ValueError(f'psnr: shapes differ: {a.shape} vs {b.shape}')
    mse = np.mean((a - b) ** 2)
    return float('inf') if mse == 0 else float(10 * np.log10(peak * peak / mse))


def psnr_y(output01, label01, border):
    """PSNR of two 0..1 luminance images (H, W) or (H, W, 1), rounded to 8 bits first."""
    return psnr(quantize(np.squeeze(output01)), quantize(np.squeeze(label01)), border)


def psnr_on_y(output01, label01, border, channels):
    """PSNR on Y whatever the network sees: RGB outputs are converted with rgb2ycbcr."""
    if channels == 1:
        return psnr_y(output01, label01, border)
    from .data import y_channel
    ya = y_channel(quantize(output01).astype(np.uint8))
    yb = y_channel(quantize(label01).astype(np.uint8))
    return psnr(ya, yb, border)
