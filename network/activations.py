"""Activation functions and their derivatives, side by side.

Every hidden layer computes A = f(Z).  Backpropagation needs f'(Z): the
chain rule turns the gradient with respect to A into the gradient with
respect to Z as dZ = dA * f'(Z).  Each derivative takes both Z and A = f(Z)
because some are cheapest written in terms of the output (sigmoid, tanh).

All functions keep float32 in, float32 out: one float64 array would halve
the speed of everything downstream.
"""

import numpy as np

LEAKY_SLOPE = np.float32(0.01)


def relu(Z):
    return np.maximum(Z, 0)


def relu_deriv(Z, A):
    return Z > 0


def leaky_relu(Z):
    return np.where(Z > 0, Z, LEAKY_SLOPE * Z)


def leaky_relu_deriv(Z, A):
    return np.where(Z > 0, np.float32(1), LEAKY_SLOPE)


def sigmoid(Z):
    # 1 / (1 + exp(-Z)) overflows for large negative Z; the tanh form does not.
    return np.float32(0.5) * (np.tanh(np.float32(0.5) * Z) + np.float32(1))


def sigmoid_deriv(Z, A):
    return A * (np.float32(1) - A)


def tanh(Z):
    return np.tanh(Z)


def tanh_deriv(Z, A):
    return np.float32(1) - A * A


ACTIVATIONS = {
    "relu": (relu, relu_deriv),
    "leaky_relu": (leaky_relu, leaky_relu_deriv),
    "sigmoid": (sigmoid, sigmoid_deriv),
    "tanh": (tanh, tanh_deriv),
}

# The activations that never fall as Z grows: a max over a block of their
# inputs picks the same winner as a max over their outputs (conv.PooledConv).
RISING = ("relu", "leaky_relu", "sigmoid", "tanh")


def shifted_exp(Z):
    """Each column of scores minus its maximum, and the exp of that: where
    softmax and the loss start.  The shift changes nothing mathematically
    (softmax is shift-invariant) but keeps exp() from overflowing."""
    shifted = Z - Z.max(axis=0, keepdims=True)
    return shifted, np.exp(shifted)


def softmax(Z):
    """Turn each column of scores into probabilities that sum to 1."""
    E = shifted_exp(Z)[1]
    return E / E.sum(axis=0, keepdims=True)


def cross_entropy(Z, labels):
    """Mean of -log softmax(Z)[label] over the columns, computed from the
    scores Z so that it stays finite even when a probability underflows."""
    shifted, E = shifted_exp(Z)
    log_sum = np.log(E.sum(axis=0))
    return float(np.mean(log_sum - shifted[labels, np.arange(Z.shape[1])]))


def one_hot(labels, n_classes=10):
    """Column j is all zeros except a 1 in row labels[j]."""
    Y = np.zeros((n_classes, labels.size), dtype=np.float32)
    Y[labels, np.arange(labels.size)] = 1
    return Y


def softmax_loss(Z, labels):
    """What a batch's scores Z (10, m) come to, as training needs them: the
    mean cross-entropy loss, how many columns score their label highest,
    and the loss's gradient with respect to Z times m,
    dZ = softmax(Z) - one_hot(labels).  The same numbers as those three
    functions give, from one shifted_exp instead of two and with no one-hot
    matrix (a step of 784-128-10 spent a tenth of its time here)."""
    shifted, E = shifted_exp(Z)
    total = E.sum(axis=0)
    columns = np.arange(Z.shape[1])
    loss = float(np.mean(np.log(total) - shifted[labels, columns]))
    correct = int(np.count_nonzero(Z.argmax(axis=0) == labels))
    dZ = E / total  # softmax(Z)
    dZ[labels, columns] -= 1  # minus one_hot(labels)
    return loss, correct, dZ
