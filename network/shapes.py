"""The shape of the problem: 28x28 greyscale images of the ten digits, and
how a batch of them becomes the network's input matrix."""

import numpy as np

SIDE = 28                        # an MNIST image is SIDE x SIDE pixels
PIXELS = SIDE * SIDE             # 784: the input layer's width
IMAGE_SHAPE = (1, SIDE, SIDE)    # channels, rows, columns: what the first layer sees
N_CLASSES = 10                   # the digits 0..9: the output layer's width


def as_columns(images, pixels_together=False):
    """Images (m, 28, 28) or (m, 784), uint8 0..255 or float 0..1, as the
    float32 matrix X of shape (784, m) with one image per column.

    pixels_together: the same X laid out in memory as the images are, each
    one's pixels side by side (the transpose of an (m, 784) matrix): no
    transposing copy to make, and the layout a dense first layer's
    dW = dZ X^T reads fastest (README, "Speed")."""
    images = np.asarray(images)
    m = images.shape[0]
    flat = images.reshape(m, -1)
    if flat.shape[1] != PIXELS:
        raise ValueError(f"expected 28x28 images, got shape {images.shape}")
    if pixels_together:
        scale = np.float32(1 / 255 if images.dtype == np.uint8 else 1)
        return np.multiply(flat, scale, dtype=np.float32).T
    if images.dtype == np.uint8:
        return np.ascontiguousarray(flat.T, dtype=np.float32) * np.float32(1 / 255)
    return np.ascontiguousarray(flat.T, dtype=np.float32)
