"""Convolution and max-pooling, for the shipped model's small CNN.

Examples are still columns: a batch is (C*H*W, m), which reshapes for free
to (C, H, W, m).  Keeping the batch axis last means every image patch that
im2col copies is a contiguous run of m numbers, and the convolution itself
is then a single matrix product, exactly like a dense layer:

    cols = im2col(A)             (C*k*k, Ho*Wo*m): one column per patch
    Z    = W cols + b            (F, Ho*Wo*m):    one row per filter
"""

import numpy as np


class Conv2D:
    """F filters of size k x k slid over the image (stride 1, no padding)."""

    def __init__(self, in_shape, filters, kernel):
        self.in_shape = C, H, W = in_shape
        self.filters, self.kernel = filters, kernel
        self.out_shape = (filters, H - kernel + 1, W - kernel + 1)
        self.param_shapes = {"W": (filters, C * kernel * kernel), "b": (filters, 1)}

    def init_params(self, rng, scheme):
        fan_in = self.param_shapes["W"][1]
        std = np.sqrt(2 / fan_in) if scheme == "he" else np.sqrt(1 / fan_in)
        self.params["W"][...] = rng.standard_normal(self.param_shapes["W"], dtype=np.float32) * np.float32(std)
        self.params["b"][...] = 0

    def im2col(self, A):
        C, H, W = self.in_shape
        k = self.kernel
        _, Ho, Wo = self.out_shape
        m = A.shape[1]
        images = A.reshape(C, H, W, m)
        cols = np.empty((C, k, k, Ho, Wo, m), dtype=A.dtype)
        for i in range(k):
            for j in range(k):
                cols[:, i, j] = images[:, i:i + Ho, j:j + Wo, :]
        return cols.reshape(C * k * k, Ho * Wo * m)

    def col2im(self, dcols, m):
        """The adjoint of im2col: add each patch's gradient back where it came from."""
        C, H, W = self.in_shape
        k = self.kernel
        _, Ho, Wo = self.out_shape
        dcols = dcols.reshape(C, k, k, Ho, Wo, m)
        dimages = np.zeros((C, H, W, m), dtype=dcols.dtype)
        for i in range(k):
            for j in range(k):
                dimages[:, i:i + Ho, j:j + Wo, :] += dcols[:, i, j]
        return dimages.reshape(C * H * W, m)

    def forward(self, A_prev, training=False):
        self.m = A_prev.shape[1]
        self.cols = self.im2col(A_prev)
        Z = self.params["W"] @ self.cols + self.params["b"]
        return Z.reshape(-1, self.m)

    def backward(self, dZ, need_input_grad=True):
        m = self.m
        dZ = dZ.reshape(self.filters, -1)
        np.matmul(dZ, self.cols.T, out=self.grads["W"])
        self.grads["W"] *= np.float32(1 / m)
        np.sum(dZ, axis=1, keepdims=True, out=self.grads["b"])
        self.grads["b"] *= np.float32(1 / m)
        if not need_input_grad:
            return None
        return self.col2im(self.params["W"].T @ dZ, m)

    def describe(self):
        return f"conv {self.filters}x{self.kernel}x{self.kernel}"


class MaxPool2D:
    """Keep the largest value of each size x size block: a little
    translation invariance, and a quarter of the numbers to carry."""

    param_shapes: dict[str, tuple[int, ...]] = {}

    def __init__(self, in_shape, size=2):
        self.in_shape = C, H, W = in_shape
        self.size = size
        self.out_shape = (C, H // size, W // size)

    def blocks(self, A):
        C, H, W = self.in_shape
        s = self.size
        m = A.shape[1]
        return A.reshape(C, H // s, s, W // s, s, m)

    def forward(self, A, training=False):
        blocks = self.blocks(A)
        out = blocks.max(axis=(2, 4))
        # Only the winner of each block passed its value on, so only it gets gradient.
        self.winners = blocks == out[:, :, None, :, None, :]
        return out.reshape(-1, A.shape[1])

    def backward(self, dOut, need_input_grad=True):
        C, Ho, Wo = self.out_shape
        m = dOut.shape[1]
        d = dOut.reshape(C, Ho, 1, Wo, 1, m) * self.winners
        return d.reshape(-1, m)

    def describe(self):
        return f"maxpool {self.size}x{self.size}"
