"""Budgets: what one file or one recipe may cost in memory, disk and time,
checked before anything is allocated.

A server is shared by a class; one visitor must not be able to take it
down with a small file that claims a huge network, or a recipe that would
train for days.  Everything here works on the *shapes* of a network
(build_layers makes layer objects without weights), so a check costs
microseconds whatever the network claims to be.

The app's training limits are the administrator's: environment variables
NETWORK_MAX_PARAMS and NETWORK_MAX_RUN_SECONDS (0 = no limit).  The
command line has none: whoever runs it owns the machine.
"""

import os
import re

import numpy as np

from .conv import Conv2D
from .errors import UserError
from .layers import Dense
from .model import build_layers
from .training import steps_per_epoch, total_steps

# A model file (an upload, or one saved by the app) may hold at most:
MAX_MODEL_PARAMS = 12_500_000       # 50 MB of float32 weights
MAX_MODEL_LAYERS = 64
MAX_METADATA_CHARS = 1_000_000      # its JSON metadata
MAX_JSON_DEPTH = 32                 # nesting of [ and { in it (ours is 4 deep)
MAX_FLOPS_PER_IMAGE = 2_000_000_000  # the Draw page runs a forward and backward pass per stroke

STRING = re.compile(r'"(?:[^"\\]|\\.)*"')  # a JSON string: brackets inside it do not nest

# What a run started from the app may cost, unless the administrator says otherwise.
DEFAULT_MAX_PARAMS = 5_000_000
DEFAULT_MAX_RUN_SECONDS = 600
ASSUMED_EFFICIENCY = 0.5            # share of the GEMM peak training reaches (`python -m network bench`)
ASSUMED_GFLOPS = 128.0              # one thread's float32 GEMM peak on the project's machines (bench, README)


class BudgetError(UserError):
    """A file or recipe that would cost more than the server allows."""


def layer_shapes(arch):
    """The layers of an architecture, with their parameter shapes and no weights
    (ArchitectureError if it does not make a network)."""
    if isinstance(arch, dict) and isinstance(arch.get("layers"), list) and len(arch["layers"]) > MAX_MODEL_LAYERS:
        raise BudgetError(f"{len(arch['layers'])} layers; at most {MAX_MODEL_LAYERS} are allowed")
    return build_layers(arch, np.random.default_rng(0))


def parameter_count(layers) -> int:
    return sum(int(np.prod(shape)) for layer in layers for shape in layer.param_shapes.values())


def flops_per_image(layers) -> int:
    """Floating-point operations of one forward pass of one image through
    the matrix products (dense and conv); a training step costs about three
    times that (forward, dW, dA)."""
    flops = 0
    for layer in layers:
        if isinstance(layer, Dense):
            flops += 2 * layer.n_in * layer.n_out
        elif isinstance(layer, Conv2D):
            n_out, n_in = layer.param_shapes["W"]
            _, height, width = layer.out_shape
            flops += 2 * n_out * n_in * height * width
    return flops


def check_model_size(layers) -> None:
    """BudgetError for a network too big to load into the app."""
    params = parameter_count(layers)
    if params > MAX_MODEL_PARAMS:
        raise BudgetError(f"{params:,} parameters; at most {MAX_MODEL_PARAMS:,} are allowed")
    flops = flops_per_image(layers)
    if flops > MAX_FLOPS_PER_IMAGE:
        raise BudgetError(f"{flops / 1e9:.1f} GFLOP to read one image; at most {MAX_FLOPS_PER_IMAGE / 1e9:g}")


def json_depth(text: str) -> int:
    """How deeply [ and { nest in a JSON text, counted without parsing it
    (json.loads would recurse once per level, and give up with RecursionError)."""
    codes = np.frombuffer(STRING.sub('""', text).encode("utf-8", "replace"), dtype=np.uint8)
    opens = np.isin(codes, (ord("["), ord("{")))
    closes = np.isin(codes, (ord("]"), ord("}")))
    depth = np.cumsum(opens.astype(np.int64) - closes)
    return int(depth.max()) if len(depth) else 0


# -- training in the app -----------------------------------------------------------

def _limit(name, default):
    text = os.environ.get(name, "").strip()
    try:
        value = float(text) if text else float(default)
    except ValueError:
        value = float(default)
    return value if value > 0 else float("inf")


def app_limits() -> tuple[float, float]:
    """(most parameters, most estimated seconds) of one run in the app."""
    return (_limit("NETWORK_MAX_PARAMS", DEFAULT_MAX_PARAMS),
            _limit("NETWORK_MAX_RUN_SECONDS", DEFAULT_MAX_RUN_SECONDS))


def estimated_seconds(layers, images_seen: int, gflops: float = ASSUMED_GFLOPS) -> float:
    """Seconds of training to push `images_seen` images through forward and
    backward, at ASSUMED_EFFICIENCY of a GEMM speed of `gflops`."""
    return 3 * flops_per_image(layers) * images_seen / (gflops * 1e9 * ASSUMED_EFFICIENCY)


def gemm_peak() -> float:
    """The server's float32 GEMM speed on one BLAS thread (as the app trains),
    in GFLOP/s: NETWORK_GEMM_GFLOPS if the administrator measured it
    (`python -m network bench`), else ASSUMED_GFLOPS.  Not measured at
    Start: on a busy server that would refuse recipes for the moment's load,
    which the queue already shares out."""
    return _limit("NETWORK_GEMM_GFLOPS", ASSUMED_GFLOPS)


def images_processed(config, n_train: int) -> int:
    """Images a recipe pushes through forward and backward, with its dev
    evaluations (forward only: a third of the cost) counted in."""
    steps = total_steps(config, n_train)
    batch = n_train if config.batch_size is None else min(config.batch_size, n_train)
    evaluations = steps // (config.eval_every or steps_per_epoch(config, n_train))
    return steps * batch + evaluations * config.dev_size // 3


def check_recipe_budget(config, n_train: int) -> None:
    """BudgetError for a recipe the app's limits do not allow, on n_train training images."""
    layers = layer_shapes(config.architecture())
    check_run_budget(layers, images_processed(config, n_train))


def check_run_budget(layers, images_seen: int, gflops: float | None = None) -> None:
    """BudgetError, saying what to change, for a run the app's limits do not
    allow (at `gflops`, by default measured on this machine)."""
    max_params, max_seconds = app_limits()
    params = parameter_count(layers)
    if params > max_params:
        raise BudgetError(f"this network has {params:,} parameters; this server allows at most "
                          f"{max_params:,.0f} per run: use fewer or narrower layers")
    seconds = estimated_seconds(layers, images_seen, gflops or gemm_peak())
    if seconds > max_seconds:
        raise BudgetError(f"this run would train for about {seconds / 60:,.0f} minutes; this server allows "
                          f"{max_seconds / 60:,.0f}: train for fewer epochs, on fewer images, or a smaller network")
