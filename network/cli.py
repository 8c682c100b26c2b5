"""The command line: python -m network train | finetune | evaluate | predict | bench | fetch | class.

Every command exits 0 on success and 2 on bad arguments or input, with a
one-line message on stderr; a bug exits 1 after logging its traceback.
With --json, output is one JSON object per line.

Why one file of over 400 lines: the whole command-line contract (every
command's arguments, output lines and exit codes) is read in one place.
"""

import argparse
import csv
import dataclasses
import json
import logging
import sys
import time
from datetime import datetime
from pathlib import Path

from .augment import AUGMENTATIONS
from .classmodels import forget_class_models
from .classroom import parse_duration, write_csv
from .csvfile import load_csv
from .drawing_sets import SOURCES_HELP, from_csv, from_store
from .errors import UserError
from .evaluation import evaluate
from .files import remove_stale_temporaries
from .finetune import FinetuneRecipe, Finetuning
from .mnist import fetch_mnist
from .modelfile import SHIPPED_DIR, input_blur, load_model, model_path, save_model, user_models_dir
from .novelty import drawing_looks_like_a_digit, load_atlas
from .preprocess import PreprocessError, canvas_to_mnist, load_image
from .recipe_rules import RULES
from .store import open_store
from .training import (
    PRESETS,
    TrainingDiverged,
    evaluate_run,
    load_training_data,
    new_network,
    parse_conv,
    parse_widths,
    run_metadata,
    train_steps,
)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


_UNSET = object()  # --batch-size not given (None already means full batch)


log = logging.getLogger(__name__)


class UsageError(UserError):
    """Bad arguments or input: exit code 2 and a one-line message."""


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    remove_stale_temporaries()
    try:
        return args.run(args) or 0
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (MemoryError, RecursionError, csv.Error) as error:
        # Bad input the checks did not foresee: still the user's, still one line.
        print(f"error: the input is too large or too deeply nested to read ({type(error).__name__})",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug: its traceback goes to the log, never hidden behind a friendly message
        logging.basicConfig()
        log.exception("python -m network %s failed", args.command)
        return 1


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m network", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a network and save it")
    train.add_argument("--preset", choices=sorted(PRESETS), default="default")
    train.add_argument("--hidden", type=_argument(parse_widths), help="widths of the hidden layers, e.g. 256,128")
    train.add_argument("--conv", type=_argument(parse_conv),
                       help="conv blocks as FILTERSxKERNEL, e.g. 16x5,32x3 ('none' for an MLP)")
    train.add_argument("--activation", choices=RULES["activation"].choices, help=RULES["activation"].help)
    train.add_argument("--init", choices=RULES["init"].choices, help=RULES["init"].help)
    train.add_argument("--optimizer", choices=RULES["optimizer"].choices, help=RULES["optimizer"].help)
    train.add_argument("--lr", type=float, help="learning rate")
    train.add_argument("--schedule", choices=RULES["schedule"].choices, help=RULES["schedule"].help)
    train.add_argument("--batch-size", type=_batch_size, default=_UNSET, help="examples per step, or 'full'")
    length = train.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int)
    length.add_argument("--iterations", type=int)
    train.add_argument("--l2", type=float)
    train.add_argument("--dropout", type=float)
    train.add_argument("--augment", type=_augmentations,
                       help=f"comma list of {','.join(AUGMENTATIONS)}, 'all' or 'none'")
    train.add_argument("--seed", type=int)
    train.add_argument("--dev-size", type=int)
    train.add_argument("--per-class", type=int, help="train on at most N images of each digit")
    train.add_argument("--eval-every", type=int, help="steps between dev evaluations")
    train.add_argument("--input-blur", type=float, help="pixels of blur for drawings this model reads (not MNIST)")
    train.add_argument("--data", default="mnist", help="'mnist' or a Kaggle-format CSV file")
    train.add_argument("--out", type=Path, help="model file to write (default: data/models/PRESET-TIME.npz)")
    train.add_argument("--json", action="store_true", help="one JSON object per progress event")
    train.set_defaults(run=run_train)

    finetune = commands.add_parser("finetune", help="train a model further on people's drawings mixed with MNIST")
    finetune.add_argument("--model", default="default", help="the model to start from (never written)")
    finetune.add_argument("--drawings", required=True, metavar="all|mine|class:CODE|FILE.csv",
                          help="the store's drawings: all, mine (the 'Was I wrong?' corrections outside any "
                               "class), a class's; or a Kaggle-format CSV with an optional writer column")
    finetune.add_argument("--minutes", type=float, help="stop training after this many minutes")
    finetune.add_argument("--steps", type=int, default=FinetuneRecipe.steps, help="mini-batches of training")
    finetune.add_argument("--out", type=Path,
                          help="model file to write (default: data/models/MODEL-finetuned-TIME.npz)")
    finetune.add_argument("--json", action="store_true", help="one JSON object per measurement, the summary last")
    finetune.set_defaults(run=run_finetune)

    ev = commands.add_parser("evaluate", help="accuracy, per-class accuracy and confusion matrix")
    ev.add_argument("--model", default="default", help="a model file, or the name of a shipped or saved model")
    ev.add_argument("--data", default="mnist-test", help="'mnist-test' or a Kaggle-format CSV file")
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(run=run_evaluate)

    predict = commands.add_parser("predict", help="read digits from image files")
    predict.add_argument("--model", default="default")
    predict.add_argument("--json", action="store_true")
    predict.add_argument("paths", nargs="+", type=Path, metavar="FILE_OR_DIR")
    predict.set_defaults(run=run_predict)

    bench = commands.add_parser("bench", help="measure training speed against the machine's GEMM peak")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--repeats", type=int, default=5, help="epochs timed per network (the median is reported)")
    bench.add_argument("--skip-98", action="store_true", help="skip the time-to-98%% run")
    bench.add_argument("--torch-python", metavar="PYTHON",
                       help="a Python with PyTorch: time the same epochs in PyTorch in the same run")
    bench.set_defaults(run=run_bench)

    fetch = commands.add_parser("fetch", help="obtain MNIST and cache it in data/")
    fetch.add_argument("--json", action="store_true")
    fetch.set_defaults(run=run_fetch)

    classes = commands.add_parser("class", help="a class's drawings: export them, purge old classes")
    class_commands = classes.add_subparsers(dest="class_command", required=True)
    export = class_commands.add_parser("export", help="a class's drawings as a Kaggle-format CSV")
    export.add_argument("code", help="the class code, e.g. K7Q2")
    export.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    export.add_argument("--details", action="store_true",
                        help="add columns after the pixels: writer, source, predicted, confidence")
    export.set_defaults(run=run_class_export)
    purge = class_commands.add_parser("purge", help="delete classes without activity for a while")
    purge.add_argument("--older-than", type=_argument(parse_duration), required=True, metavar="AGE",
                       help="e.g. 30d, 12h")
    purge.add_argument("--json", action="store_true")
    purge.set_defaults(run=run_class_purge)
    return parser


# -- argument types ----------------------------------------------------------

def _argument(parse):
    """An argparse type from a parser that raises a UserError, keeping its message."""
    def convert(text):
        try:
            return parse(text)
        except UserError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return convert


def _batch_size(text):
    if text.strip().lower() == "full":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or 'full', got {text!r}") from None


def _augmentations(text):
    text = text.strip().lower()
    if text == "all":
        return AUGMENTATIONS
    if text in ("", "none"):
        return ()
    kinds = tuple(k.strip() for k in text.split(","))
    unknown = [k for k in kinds if k not in AUGMENTATIONS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown augmentation {unknown[0]!r}; choose from {', '.join(AUGMENTATIONS)}")
    return kinds


# -- commands ----------------------------------------------------------------

def config_from_args(args):
    """The preset, with every option given on the command line laid over it."""
    config = PRESETS[args.preset]
    overrides = {name: getattr(args, name.replace("-", "_")) for name in (
        "hidden", "conv", "activation", "init", "optimizer", "lr", "schedule", "l2", "dropout",
        "augment", "seed", "dev_size", "per_class", "eval_every", "input_blur")}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if args.batch_size is not _UNSET:
        overrides["batch_size"] = args.batch_size
    if args.epochs is not None:
        overrides.update(epochs=args.epochs, iterations=None)
    if args.iterations is not None:
        overrides.update(iterations=args.iterations, epochs=None)
    config = dataclasses.replace(config, **overrides)
    config.check()
    return config


def run_train(args):
    config = config_from_args(args)
    log = (lambda message: None) if args.json else (lambda message: print(message, file=sys.stderr))
    data = load_training_data(config, args.data, progress=_progress_bar if not args.json else None, log=log)
    out = args.out or user_models_dir() / f"{args.preset}-{datetime.now():%Y%m%d-%H%M%S}.npz"
    net = new_network(config)
    log(f"training {net.describe()} ({net.n_params:,} parameters) on {len(data.train):,} images "
        f"from {data.source}; dev set {len(data.dev):,}")
    history = []
    try:
        for progress in train_steps(net, config, data.train.images, data.train.labels,
                                    data.dev.images, data.dev.labels):
            history.append(progress)
            if args.json:
                print(json.dumps(dataclasses.asdict(progress)), flush=True)
            else:
                _show_training(progress)
    except TrainingDiverged as error:
        raise UsageError(str(error)) from None
    result = evaluate_run(net, data, history)
    try:
        save_model(net, out, run_metadata(config, data, history, result))
    except OSError as error:
        raise UsageError(f"cannot write {out}: {error.strerror or error}") from None
    if not args.json:
        print(file=sys.stderr)
    summary = {"done": True, **result, "seconds": round(history[-1].seconds, 3), "model": str(out)}
    print(json.dumps(summary) if args.json else _format_summary(summary))


def run_finetune(args):
    source = resolve_model(args.model)
    if args.minutes is not None and not 0 < args.minutes <= 600:
        raise UsageError("--minutes must be more than 0 and at most 600")
    if not 1 <= args.steps <= 100_000:
        raise UsageError("--steps must be 1 to 100000")
    out = args.out or user_models_dir() / f"{source.stem}-finetuned-{datetime.now():%Y%m%d-%H%M%S}.npz"
    if out.resolve() == source.resolve() or out.resolve().parent == SHIPPED_DIR:
        raise UsageError(f"{out}: fine-tuning never writes over its source or a shipped model; give another --out")
    net = load_model(source)
    drawings = load_drawings(args.drawings)
    log = (lambda message: None) if args.json else (lambda message: print(message, file=sys.stderr))
    mnist = fetch_mnist(log=log)
    recipe = FinetuneRecipe(steps=args.steps, seconds=None if args.minutes is None else 60 * args.minutes)
    run = Finetuning(net, drawings, mnist, recipe)
    log(f"fine-tuning {args.model} on {len(run.split.train)} drawings mixed with MNIST; "
        f"{len(run.split.held_out)} held out ({run.split.how})")

    def show(p):
        if p.dev_accuracy is None:
            return
        if args.json:
            print(json.dumps(dataclasses.asdict(p)), flush=True)
        else:
            held = "-" if p.held_out_accuracy is None else f"{p.held_out_accuracy:.2%}"
            log(f"step {p.step}/{p.total_steps}  held-out drawings {held}  MNIST dev {p.dev_accuracy:.2%}  "
                f"{p.seconds:.1f} s")
    try:
        report = run.run(show)
    except TrainingDiverged as error:
        raise UsageError(str(error)) from None
    try:
        save_model(net, out, run.metadata(str(args.model), drawings.digits.source))
    except OSError as error:
        raise UsageError(f"cannot write {out}: {error.strerror or error}") from None
    log(run.verdict())
    print(json.dumps({"done": True, **report, "model": str(out)}) if args.json else f"-> {out}")


def load_drawings(which):
    """--drawings: the store's ('all', 'mine', 'class:CODE') or a CSV file's."""
    if which in ("all", "mine") or which.startswith("class:"):
        return from_store(open_store(), which)
    if not Path(which).is_file():
        raise UsageError(f"--drawings {which}: not {SOURCES_HELP} (no such file)")
    return from_csv(Path(which))


def run_evaluate(args):
    net = load_model(resolve_model(args.model))
    if args.data == "mnist-test":
        test = fetch_mnist(log=None if args.json else lambda m: print(m, file=sys.stderr)).test
    else:
        test = load_csv(Path(args.data))
    report = evaluate(net.predict_proba(test.images), test.labels)
    if args.json:
        print(json.dumps({"model": args.model, "data": test.source, **report}))
        return
    print(f"{args.model}: {net.describe()}  on {test.source} ({len(test):,} images)")
    print(f"accuracy {report['accuracy']:.2%}")
    print("per class: " + "  ".join(f"{d}:{a:.1%}" for d, a in enumerate(report["per_class_accuracy"])))
    print("confusion matrix (rows: true digit, columns: predicted):")
    for digit, row in enumerate(report["confusion_matrix"]):
        print(f"  {digit} " + " ".join(f"{n:5d}" for n in row))


def run_predict(args):
    net = load_model(resolve_model(args.model))
    files = []
    for path in args.paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.exists():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such file or folder")
    atlas = load_atlas()  # None without models/digit-atlas.npz: no "looks_like_a_digit" then
    for file in files:
        try:
            image = load_image(file)
            drawing = canvas_to_mnist(image, blur=input_blur(net))
            if drawing.empty:
                raise PreprocessError("no digit found (the image is empty)")
        except PreprocessError as error:
            print(json.dumps({"file": str(file), "error": str(error)}) if args.json else f"{file}: {error}")
            continue
        probabilities = net.predict_proba(drawing.pixels[None])[0]
        digit = int(probabilities.argmax())
        digit_like = None if atlas is None else drawing_looks_like_a_digit(atlas, drawing)
        if args.json:
            print(json.dumps({"file": str(file), "digit": digit,
                              "probabilities": [round(float(p), 6) for p in probabilities],
                              **({} if digit_like is None else {"looks_like_a_digit": digit_like})}))
        else:
            print(f"{file}: {digit} ({probabilities[digit]:.1%})"
                  + ("" if digit_like is not False else ", but it does not look like a digit"))


def run_bench(args):
    from .bench import run_benchmarks
    run_benchmarks(repeats=args.repeats, time_to_98_percent=not args.skip_98, as_json=args.json,
                   torch_python=args.torch_python)


def run_fetch(args):
    start = time.perf_counter()
    mnist = fetch_mnist(progress=None if args.json else _progress_bar,
                        log=None if args.json else lambda m: print(m, file=sys.stderr))
    seconds = time.perf_counter() - start
    if args.json:
        print(json.dumps({"source": mnist.source, "train": len(mnist.train), "test": len(mnist.test),
                          "seconds": round(seconds, 3)}))
    else:
        print(f"\nMNIST ready: {len(mnist.train):,} training and {len(mnist.test):,} test images "
              f"from {mnist.source} ({seconds:.1f} s)")


def run_class_export(args):
    store = open_store()
    info = store.find_class(args.code)
    drawings = store.drawings(info.code)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    with tmp.open("w", newline="") as f:
        write_csv(drawings, f, details=args.details)
    tmp.replace(args.out)
    print(f"{len(drawings)} drawings of class {info.code} -> {args.out}", file=sys.stderr)


def run_class_purge(args):
    codes = open_store().purge(args.older_than)
    for code in codes:
        forget_class_models(code)
    if args.json:
        print(json.dumps({"purged": codes}))
    else:
        print(f"purged {len(codes)} classes" + (f": {', '.join(codes)}" if codes else ""))


def resolve_model(name_or_path):
    """'default', 'seed', a saved model's name, or a path to a model file."""
    path = Path(name_or_path)
    if path.suffix == ".npz" or path.exists():
        return path
    try:
        return model_path(name_or_path)
    except UserError:
        raise UsageError(f"{name_or_path}: no such model "
                         "(give a file path, 'default' or a saved model's name)") from None


# -- terminal output ---------------------------------------------------------

def _progress_bar(fraction, message=""):
    if sys.stderr.isatty():
        filled = int(30 * fraction)
        print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction:6.1%} {message[:40]:40}", end="",
              file=sys.stderr, flush=True)


def _show_training(p):
    line = (f"step {p.step}/{p.total_steps}  epoch {p.epoch:.2f}  loss {p.loss:.4f}  "
            f"train {p.train_accuracy:.2%}" + (f"  dev {p.dev_accuracy:.2%}" if p.dev_accuracy is not None else "")
            + f"  {p.samples_per_second:,.0f} img/s")
    if sys.stderr.isatty():
        print("\r" + line.ljust(100), end="", file=sys.stderr, flush=True)
    elif p.dev_accuracy is not None:
        print(line, file=sys.stderr)


def _format_summary(s):
    def pct(value):
        return "-" if value is None else f"{value:.2%}"
    return (f"train {pct(s['train_accuracy'])}  dev {pct(s['dev_accuracy'])}  test {pct(s['test_accuracy'])}  "
            f"in {s['seconds']:.1f} s -> {s['model']}")
