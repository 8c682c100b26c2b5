"""Optimisers and learning-rate schedules.

An optimiser turns the gradient into a step.  Each works on the network's
whole flat parameter vector at once, in place, with one scratch buffer: a
dozen array operations per step, whatever the number of layers.
"""

import math

import numpy as np


class GradientDescent:
    """params -= lr * grads: the seed notebook's update (W -= alpha dW)."""

    def __init__(self, n_params):
        self.scratch = np.empty(n_params, dtype=np.float32)

    def step(self, params, grads, lr):
        np.multiply(grads, np.float32(lr), out=self.scratch)
        params -= self.scratch


class Momentum:
    """A heavy ball: velocity = beta * velocity + grads; params -= lr * velocity.

    Directions the gradient keeps pointing in build up speed, while
    back-and-forth components cancel out.
    """

    def __init__(self, n_params, beta=0.9):
        self.beta = np.float32(beta)
        self.velocity = np.zeros(n_params, dtype=np.float32)
        self.scratch = np.empty(n_params, dtype=np.float32)

    def step(self, params, grads, lr):
        self.velocity *= self.beta
        self.velocity += grads
        np.multiply(self.velocity, np.float32(lr), out=self.scratch)
        params -= self.scratch


class Adam:
    """Momentum plus a per-parameter step size (Kingma & Ba, 2015).

    mean = running average of grads, var = running average of grads^2;
    params -= lr * mean_hat / (sqrt(var_hat) + eps), where the hats undo the
    bias of averages that start at zero.  Parameters with consistently large
    gradients take smaller steps, rarely-updated ones larger.
    """

    def __init__(self, n_params, beta1=0.9, beta2=0.999, eps=1e-8):
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.mean = np.zeros(n_params, dtype=np.float32)
        self.var = np.zeros(n_params, dtype=np.float32)
        self.scratch = np.empty(n_params, dtype=np.float32)
        self.t = 0

    def step(self, params, grads, lr):
        self.t += 1
        b1, b2, s = self.beta1, self.beta2, self.scratch
        np.multiply(grads, np.float32(1 - b1), out=s)
        self.mean *= np.float32(b1)
        self.mean += s
        np.multiply(grads, grads, out=s)
        s *= np.float32(1 - b2)
        self.var *= np.float32(b2)
        self.var += s
        # Fold both bias corrections into one scalar step size.
        correction = math.sqrt(1 - b2 ** self.t)
        step_size = lr * correction / (1 - b1 ** self.t)
        np.sqrt(self.var, out=s)
        s += np.float32(self.eps * correction)
        np.divide(self.mean, s, out=s)
        s *= np.float32(step_size)
        params -= s


OPTIMIZERS = {"gd": GradientDescent, "momentum": Momentum, "adam": Adam}
OPTIMIZER_NAMES = {"gd": "gradient descent", "momentum": "momentum", "adam": "Adam"}


def scheduled_lr(base_lr, schedule, progress):
    """The learning rate when a fraction `progress` (0..1) of training is done.

    constant: base_lr throughout.
    step:     divided by 10 at 50% and again at 75% of training.
    cosine:   falls smoothly from base_lr to 0 along half a cosine.
    onecycle: climbs from a tenth of base_lr to base_lr in the first
              ONECYCLE_WARMUP of training, then falls to 0 along half a
              cosine (Smith's one-cycle policy: the early small steps let a
              high peak rate be used safely, so fewer epochs reach as far).
    """
    if schedule == "constant":
        return base_lr
    if schedule == "step":
        return base_lr * (0.1 ** ((progress >= 0.5) + (progress >= 0.75)))
    if schedule == "cosine":
        return base_lr * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    if schedule == "onecycle":
        if progress < ONECYCLE_WARMUP:
            return base_lr * (0.1 + 0.9 * progress / ONECYCLE_WARMUP)
        return scheduled_lr(base_lr, "cosine", (progress - ONECYCLE_WARMUP) / (1 - ONECYCLE_WARMUP))
    raise ValueError(f"unknown schedule {schedule!r}; expected one of {', '.join(SCHEDULES)}")


SCHEDULES = ("constant", "step", "cosine", "onecycle")
ONECYCLE_WARMUP = 0.2  # share of training spent climbing to the peak rate
