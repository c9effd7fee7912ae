"""Tiles of a large image, for any method whose network cannot see it whole.

Tiles partition the image (equal-ish sizes); each tile's crop adds `margin`
pixels of context on every side, and only the tile's own part of a crop's
gradient is kept, so every pixel's gradient comes from a crop in which it sits
`margin` pixels from a cut edge (TensorFlow's DeepDream tutorial does the same
with random shifts).
"""


def tile_edges(length, tile):
    """[(start, end)] covering 0..length in tiles of at most `tile`, equal-ish sizes."""
    n = max(1, -(-length // tile))
    cuts = [round(i * length / n) for i in range(n + 1)]
    return list(zip(cuts[:-1], cuts[1:]))


def tiles(height, width, tile, margin):
    """[(core (y0, y1, x0, x1), crop (y0, y1, x0, x1))] of every tile; crops are cut at
    the image border."""
    out = []
    for y0, y1 in tile_edges(height, tile):
        for x0, x1 in tile_edges(width, tile):
            crop = (max(0, y0 - margin), min(height, y1 + margin),
                    max(0, x0 - margin), min(width, x1 + margin))
            out.append(((y0, y1, x0, x1), crop))
    return out


def same_size_tiles(height, width, tile, margin):
    """As `tiles`, but every crop has the same size (the largest core plus two margins,
    at most the image), moved inside the image at its border instead of cut: one
    network graph serves every crop."""
    cores = [core for core, _ in tiles(height, width, tile, margin)]
    ch = min(height, max(y1 - y0 for y0, y1, _, _ in cores) + 2 * margin)
    cw = min(width, max(x1 - x0 for _, _, x0, x1 in cores) + 2 * margin)

    def place(start, end, size, length):
        begin = min(max(0, (start + end) // 2 - size // 2), length - size)
        return begin, begin + size
    return [((y0, y1, x0, x1), place(y0, y1, ch, height) + place(x0, x1, cw, width))
            for y0, y1, x0, x1 in cores]


def crop_pixels(crops):
    """Pixels the network sees for one tiled pass (the overhead over the image's own)."""
    return sum((c[1] - c[0]) * (c[3] - c[2]) for _, c in crops)
