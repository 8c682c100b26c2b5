"""Lesson links: a Train page recipe written in the page's address.

A teacher sets up a recipe and hands out the link; whoever opens it gets
the same preset, settings and chart axis, with the controls the teacher
hid (`hide=optimizer,lr`) left off the page, as TensorFlow Playground does
for lessons.  Reading a link checks every value against the recipe rules
(recipe_rules.py); a value that does not fit is dropped with a message, so
the setting keeps its default, and nothing a link holds can break the page.

    /train?preset=custom&hidden=256,128&optimizer=gd&lr=0.1&batch=full&epochs=3&hide=optimizer,batch
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from .augment import AUGMENTATIONS
from .errors import UserError
from .recipe_rules import BATCH_SIZES, RULES
from .training import parse_conv, parse_widths

PRESETS = ("fast", "seed", "default", "custom")
AXES = ("epoch", "step", "seconds")
# The Custom settings a link may give, each with the recipe rule that bounds it.
SETTINGS = {"hidden": "hidden", "conv": "filters", "activation": "activation", "init": "init",
            "dropout": "dropout", "optimizer": "optimizer", "lr": "lr", "schedule": "schedule", "l2": "l2",
            "batch": "batch_size", "epochs": "length", "iterations": "length", "augment": "augment",
            "per_class": "per_class", "dev_size": "dev_size", "seed": "seed"}
HIDEABLE = ("hidden", "conv", "activation", "init", "dropout", "optimizer", "lr", "schedule", "l2", "batch",
            "epochs", "augment", "per_class", "dev_size", "seed")
WHOLE_NUMBERS = ("epochs", "iterations", "per_class", "dev_size", "seed")
PARAMETERS = ("preset", *SETTINGS, "axis", "hide")


@dataclass
class Lesson:
    """What a link asks for, every value checked, and what was wrong with it."""

    preset: str | None = None
    settings: dict = field(default_factory=dict)   # setting name -> value as the Train page's control holds it
    axis: str | None = None
    hide: tuple = ()
    problems: list = field(default_factory=list)

    def message(self) -> str | None:
        """One message for everything a link got wrong, or None."""
        if not self.problems:
            return None
        return ("This link has settings the page cannot use, so they keep their defaults: "
                + "; ".join(self.problems) + ".")


def read_lesson(query: Mapping[str, str]) -> Lesson:
    """The lesson in a page's query parameters (a mapping of name -> text)."""
    lesson = Lesson()
    for name, text in query.items():
        text = str(text).strip()[:200]
        if name not in PARAMETERS:
            lesson.problems.append(f"unknown setting {name[:40]!r}")
        elif name == "preset":
            _choose(lesson, "preset", text.lower(), PRESETS)
        elif name == "axis":
            _choose(lesson, "axis", text.lower(), AXES)
        elif name == "hide":
            names = [n.strip().lower() for n in text.split(",") if n.strip()]
            unknown = [n for n in names if n not in HIDEABLE]
            if unknown:
                lesson.problems.append(f"hide: cannot hide {', '.join(unknown)[:80]} "
                                       f"(it can hide {', '.join(HIDEABLE)})")
            lesson.hide = tuple(dict.fromkeys(n for n in names if n in HIDEABLE))
        else:
            try:
                lesson.settings[name] = setting_value(name, text)
            except UserError as error:
                lesson.problems.append(f"{name}={text[:40]}: {error}")
    if "epochs" in lesson.settings and "iterations" in lesson.settings:
        lesson.problems.append("give epochs or iterations, not both (epochs kept)")
        del lesson.settings["iterations"]
    if lesson.settings and lesson.preset is None:
        lesson.preset = "custom"    # settings are Custom's
    elif lesson.settings and lesson.preset != "custom":
        lesson.problems.append(f"settings apply to the Custom recipe, not to {lesson.preset}: add preset=custom")
        lesson.settings = {}
    return lesson


def setting_value(name: str, text: str):
    """One Custom setting from a link's text, as its control holds it; UserError if it does not fit."""
    rule = RULES[SETTINGS[name]]
    if name == "hidden":
        widths = parse_widths(text)
        problems = [rule.problem(width, "each width") for width in widths]
        _raise_first(problems)
        return ", ".join(map(str, widths))
    if name == "conv":
        blocks = parse_conv(text)
        _raise_first([rule.problem(filters, "filters") for filters, _ in blocks])
        return ", ".join(f"{filters}x{kernel}" for filters, kernel in blocks)
    if name == "augment":
        kinds = [k.strip().lower() for k in text.split(",") if k.strip()]
        kinds = list(AUGMENTATIONS) if kinds == ["all"] else [] if kinds == ["none"] else kinds
        _raise_first([rule.problem(k, "each augmentation") for k in kinds])
        return list(dict.fromkeys(kinds))
    if name == "batch":
        if text.lower() == "full":
            return "full"
        value = _number(text, whole=True)
        if value not in BATCH_SIZES:
            raise UserError(f"it must be one of {', '.join(map(str, BATCH_SIZES))}")
        return value
    if rule.choices:
        value = text.lower()
    else:
        value = _number(text, whole=name in WHOLE_NUMBERS)
    _raise_first([rule.problem(value, "it")])
    return value


def lesson_query(preset: str, settings: dict, axis: str | None, hide: tuple) -> dict[str, str]:
    """The query parameters that give this lesson back (the reverse of read_lesson)."""
    query = {"preset": preset}
    if preset == "custom":
        for name, value in settings.items():
            if isinstance(value, (list, tuple)):
                query[name] = ",".join(value) or "none"
            else:
                query[name] = f"{value:g}" if isinstance(value, float) else str(value).replace(" ", "")
    if axis:
        query["axis"] = axis
    if hide:
        query["hide"] = ",".join(hide)
    return query


def _choose(lesson, name, value, choices):
    if value in choices:
        setattr(lesson, name, value)
    else:
        lesson.problems.append(f"{name}={value[:40]}: it must be one of {', '.join(choices)}")


def _number(text, whole):
    try:
        value = float(text)
    except ValueError:
        raise UserError("it must be a number") from None
    if not math.isfinite(value):
        raise UserError("it must be a number")
    if whole:
        if not value.is_integer():
            raise UserError("it must be a whole number")
        return int(value)
    return value


def _raise_first(problems):
    found = [p for p in problems if p]
    if found:
        raise UserError(found[0])
