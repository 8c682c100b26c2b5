"""Convolution and max-pooling, for the shipped model's small CNN.

Examples are still columns: a batch is (C*H*W, m), which reshapes for free
to (C, H, W, m).  Keeping the batch axis last means every image patch that
im2col copies is a contiguous run of m numbers, and the convolution itself
is then a single matrix product, exactly like a dense layer:

    cols = im2col(A)             (C*k*k, Ho*Wo*m): one column per patch
    Z    = W cols + b            (F, Ho*Wo*m):    one row per filter

Speed (see README, "Speed"): the patches are copied and multiplied a few
output rows at a time, so that the product finds them in the core's cache;
in training, the big arrays (the patches, the outputs, the gradients) are
written into buffers kept from one batch to the next instead of fresh
memory, and each chunk's im2col is a single copy of a strided view.
In inference (keep=False) nothing is kept in the layer: reading is a pure
function of the weights and the input, so any number of readers can share it.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided


class Buffers:
    """Arrays reused from one training batch to the next, by name and shape:
    fresh memory costs a page fault per 4 KB the first time it is written."""

    def __init__(self):
        self.arrays = {}

    def get(self, name, shape, dtype):
        array = self.arrays.get(name)
        if array is None or array.shape != shape or array.dtype != dtype:
            array = self.arrays[name] = np.empty(shape, dtype=dtype)
        return array


def scratch(buffers, name, shape, dtype):
    """A buffer to write into: a kept one in training, fresh memory otherwise."""
    return buffers.get(name, shape, dtype) if buffers is not None else np.empty(shape, dtype=dtype)


# A chunk of patches this size fits in a core's L2 cache (512 KB-2 MB on
# today's x86 cores) next to the product's other operands.
CHUNK_BYTES = 256 * 1024


def add_bias(Z, b):
    """Z (F*H*W, m) += each filter's bias b (F, 1), in place."""
    Z.reshape(b.shape[0], -1)[...] += b


class Conv2D:
    """F filters of size k x k slid over the image (stride 1, no padding)."""

    def __init__(self, in_shape, filters, kernel):
        self.in_shape = C, H, W = in_shape
        self.filters, self.kernel = filters, kernel
        self.out_shape = (filters, H - kernel + 1, W - kernel + 1)
        self.param_shapes = {"W": (filters, C * kernel * kernel), "b": (filters, 1)}
        self.buffers = Buffers()

    def init_params(self, rng, scheme):
        fan_in = self.param_shapes["W"][1]
        std = np.sqrt(2 / fan_in) if scheme == "he" else np.sqrt(1 / fan_in)
        self.params["W"][...] = rng.standard_normal(self.param_shapes["W"], dtype=np.float32) * np.float32(std)
        self.params["b"][...] = 0

    @property
    def multiply_adds(self):
        """Of one example's forward pass: every filter weight at every position."""
        _, Ho, Wo = self.out_shape
        return int(np.prod(self.param_shapes["W"])) * Ho * Wo

    def patches(self, A):
        """Every k x k patch of the images A (C*H*W, m) as a view (C, k, k, Ho, Wo, m):
        patch (i, j) of output pixel (y, x) is input pixel (y + i, x + j)."""
        C, H, W = self.in_shape
        _, Ho, Wo = self.out_shape
        k, m = self.kernel, A.shape[1]
        images = A.reshape(C, H, W, m)
        sc, sy, sx, sm = images.strides
        return as_strided(images, (C, k, k, Ho, Wo, m), (sc, sy, sx, sy, sx, sm), writeable=False)

    def row_chunks(self, m):
        """The output rows in slices [y0, y1) whose patches fill at most
        CHUNK_BYTES (at least one row each)."""
        C, _, _ = self.in_shape
        _, Ho, Wo = self.out_shape
        row_bytes = C * self.kernel ** 2 * Wo * m * self.params["W"].itemsize
        rows = max(1, CHUNK_BYTES // row_bytes)
        return [(y0, min(y0 + rows, Ho)) for y0 in range(0, Ho, rows)]

    def im2col(self, patches, y0, y1, chunk):
        """The patches of output rows y0..y1 as the columns of a matrix
        (C*k*k, (y1-y0)*Wo*m), copied into the front of the flat buffer `chunk`."""
        C, k, _, _, Wo, m = patches.shape
        cols = chunk[:C * k * k * (y1 - y0) * Wo * m].reshape(C, k, k, y1 - y0, Wo, m)
        np.copyto(cols, patches[:, :, :, y0:y1])
        return cols.reshape(C * k * k, -1)

    def chunk_buffer(self, m, buffers=None):
        """Room for the patches of the largest row chunk."""
        C, _, _ = self.in_shape
        _, _, Wo = self.out_shape
        y0, y1 = self.row_chunks(m)[0]
        size = C * self.kernel ** 2 * (y1 - y0) * Wo * m
        return scratch(buffers, "cols", (size,), self.params["W"].dtype)

    def col2im(self, dcols, m, buffers=None):
        """The adjoint of im2col: add each patch's gradient, dcols
        (C*k*k, Ho*Wo*m), back where the patch came from, as k*k strided
        additions (over every row at once: per chunk, the additions'
        Python overhead cost more than the cache saved, measured)."""
        C, H, W = self.in_shape
        k = self.kernel
        _, Ho, Wo = self.out_shape
        dcols = dcols.reshape(C, k, k, Ho, Wo, m)
        dimages = scratch(buffers, "dimages", (C, H, W, m), dcols.dtype)
        dimages[...] = 0
        for i in range(k):
            for j in range(k):
                dimages[:, i:i + Ho, j:j + Wo, :] += dcols[:, i, j]
        return dimages.reshape(C * H * W, m)

    def forward(self, A_prev, training=False, keep=False):
        Z = self.weighted_sums(A_prev, keep)
        add_bias(Z, self.params["b"])
        return Z

    def weighted_sums(self, A_prev, keep=False):
        """W cols: every filter's weighted sum at every position, before the
        bias, as (F*Ho*Wo, m).

        The patches are copied and multiplied a few output rows at a time:
        a chunk of patches is still in the core's own cache when the matrix
        product reads it, where all of them at once (3.7 MB for the first
        conv's 64 images) would go out to memory and come back."""
        buffers = self.buffers if keep else None
        F, Ho, Wo = self.out_shape
        m = A_prev.shape[1]
        patches, chunk = self.patches(A_prev), self.chunk_buffer(m, buffers)
        Z = scratch(buffers, "Z", (F, Ho * Wo * m), chunk.dtype)
        for y0, y1 in self.row_chunks(m):
            np.matmul(self.params["W"], self.im2col(patches, y0, y1, chunk), out=Z[:, y0 * Wo * m:y1 * Wo * m])
        if keep:  # the input, not its patches: backward copies them again, chunk by chunk
            self.A_prev, self.m = A_prev, m
        return Z.reshape(-1, m)

    def backward(self, dZ, need_input_grad=True):
        self.bias_gradient(dZ)
        return self.backward_weighted_sums(dZ, need_input_grad)

    def bias_gradient(self, dZ):
        """db = the sum of dZ over every position of every example, / m."""
        np.sum(dZ.reshape(self.filters, -1), axis=1, keepdims=True, out=self.grads["b"])
        self.grads["b"] *= 1 / self.m  # a Python float keeps the array's dtype

    def backward_weighted_sums(self, dZ, need_input_grad=True):
        """dW = dZ cols^T / m, a chunk of output rows at a time as in the
        forward pass (dW is the sum of the chunks' products), and dA_prev
        when asked (the first layer never is)."""
        F, Ho, Wo = self.out_shape
        m = self.m
        dZ = dZ.reshape(F, -1)
        patches, chunk = self.patches(self.A_prev), self.chunk_buffer(m, self.buffers)
        # dW^T = cols dZ^T: OpenBLAS is ~15% faster this way round for these
        # long, thin products (measured).
        dWT = self.buffers.get("dW^T", self.grads["W"].T.shape, dZ.dtype)
        part = self.buffers.get("dW^T part", dWT.shape, dZ.dtype)
        for n, (y0, y1) in enumerate(self.row_chunks(m)):
            cols, dZ_rows = self.im2col(patches, y0, y1, chunk), dZ[:, y0 * Wo * m:y1 * Wo * m]
            np.matmul(cols, dZ_rows.T, out=part if n else dWT)
            if n:
                dWT += part
        np.multiply(dWT.T, 1 / m, out=self.grads["W"])
        if not need_input_grad:
            return None
        dcols = self.buffers.get("dcols", (self.param_shapes["W"][1], Ho * Wo * m), dZ.dtype)
        np.matmul(self.params["W"].T, dZ, out=dcols)
        return self.col2im(dcols, m, self.buffers)

    def describe(self):
        return f"conv {self.filters}x{self.kernel}x{self.kernel}"


class MaxPool2D:
    """Keep the largest value of each size x size block: a little
    translation invariance, and a quarter of the numbers to carry."""

    param_shapes: dict[str, tuple[int, ...]] = {}
    multiply_adds = 0

    def __init__(self, in_shape, size=2):
        self.in_shape = C, H, W = in_shape
        self.size = size
        self.out_shape = (C, H // size, W // size)
        self.buffers = Buffers()

    def corners(self, A):
        """The size*size members of every block, each as a view (C, Ho, Wo, m)."""
        C, H, W = self.in_shape
        s, m = self.size, A.shape[1]
        blocks = A.reshape(C, H // s, s, W // s, s, m)
        return [blocks[:, :, i, :, j, :] for i in range(s) for j in range(s)]

    def forward(self, A, training=False, keep=False):
        buffers = self.buffers if keep else None
        C, Ho, Wo = self.out_shape
        m = A.shape[1]
        corners = self.corners(A)
        out = scratch(buffers, "out", (C, Ho, Wo, m), A.dtype)
        np.copyto(out, corners[0])
        if keep:
            # Only the winner of each block passed its value on, so only it
            # gets gradient: remember which member won (the first, on a tie).
            winner = buffers.get("winner", out.shape, np.uint8)
            winner[...] = 0
            beats = buffers.get("beats", out.shape, bool)
            step = buffers.get("step", out.shape, np.uint8)
        for n, corner in enumerate(corners[1:], start=1):
            if keep:  # winner = n where this member beats the best so far
                np.greater(corner, out, out=beats)
                np.subtract(np.uint8(n), winner, out=step)
                step *= beats
                winner += step
            np.maximum(out, corner, out=out)
        if keep:
            self.winner, self.m = winner, m
        return out.reshape(-1, m)

    def backward(self, dOut, need_input_grad=True):
        C, Ho, Wo = self.out_shape
        m = self.m
        dOut = dOut.reshape(C, Ho, Wo, m)
        dA = self.buffers.get("dA", (int(np.prod(self.in_shape)), m), dOut.dtype)
        is_winner = self.buffers.get("is_winner", dOut.shape, bool)
        for n, corner in enumerate(self.corners(dA)):
            np.equal(self.winner, n, out=is_winner)
            np.multiply(dOut, is_winner, out=corner)
        return dA

    def describe(self):
        return f"maxpool {self.size}x{self.size}"


class PooledConv:
    """A conv -> activation -> max-pool block, computed in the cheaper order
    conv (without its bias) -> max-pool -> bias -> activation.

    Max-pooling commutes with adding the same number to a whole block and
    with any rising function, and every activation here rises:

        max_i f(z_i + b) = f(max_i z_i + b)

    (rounding rises too, so the values are the same to the last bit).  In
    this order the bias and the activation, forward and backward, touch a
    quarter of the numbers.  Backward is the chain rule through the same
    order: the activation's derivative on the pooled values, the bias
    gradient (their sum), then the pool hands each block's gradient to its
    winner, then the convolution's weights and input.

    It holds the network's own three layers (their weights, gradients and
    buffers); the network draws them one by one (hidden_activations).
    """

    def __init__(self, conv, activation, pool):
        self.conv, self.activation, self.pool = conv, activation, pool
        self.param_shapes = {}

    def forward(self, A_prev, training=False, keep=False):
        P = self.pool.forward(self.conv.weighted_sums(A_prev, keep), training, keep)
        add_bias(P, self.conv.params["b"])
        return self.activation.forward(P, training, keep)

    def backward(self, dA, need_input_grad=True):
        dP = self.activation.backward(dA)
        self.conv.bias_gradient(dP)
        return self.conv.backward_weighted_sums(self.pool.backward(dP), need_input_grad)

    def describe(self):
        return f"{self.conv.describe()}, {self.activation.describe()}, {self.pool.describe()}"
