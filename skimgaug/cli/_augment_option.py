"""``--augment KEY=VALUE``: the estimator's ``augment`` transforms on the command line."""

import re

from ._options import UsageError, parse_value


def add_augment_option(parser):
    parser.add_argument(
        "--augment",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=(
            "a transform beyond ImageDataGenerator's, on training batches only, repeatable: "
            "rand_augment_ops=2, trivial_augment=true, mixup_alpha=0.2, cutmix_alpha=1, "
            "erasing_probability=0.25, elastic_alpha=2, gamma_range=0.8,1.25, "
            "contrast_range=0.8,1.2, saturation_range=0.8,1.2, hue_range=-0.05,0.05, "
            "gaussian_noise_std=0.02, blur_sigma_range=0,1, clahe_clip_limit=2 (see the "
            "user guide's Augmentations page)"
        ),
    )


def parse_augment(items):
    """``["key=value", ...]`` to a dict the estimator checks (UsageError listing every problem).

    Returns None when no ``--augment`` is given.
    """
    from .._augment._augment_keys import resolve_augment

    if not items:
        return None
    settings, problems = {}, []
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(
                f"--augment expects key=value (such as mixup_alpha=0.2 or "
                f"gamma_range=0.8,1.25), got {item!r}"
            )
        else:
            value = parse_value(value)
            settings[key] = tuple(value) if isinstance(value, list) else value
    try:
        resolve_augment(settings, owner="skimgaug")
    except ValueError as exc:
        text = str(exc)
        found = text.split("\n- ")[1:] or [text.partition(": ")[2] or text]
        problems += [_for_the_command_line(p) for p in found]
    if problems:
        raise UsageError("; ".join(problems))
    return settings


def _for_the_command_line(problem):
    """A problem of ``resolve_augment`` in the command line's words."""
    problem = re.sub(r"augment\['(\w+)'\]", r"--augment \1", problem)
    problem = re.sub(
        r"The 'augment' parameter of skimgaug has an unknown key '(\w+)'",
        r"--augment \1 is not an augment key",
        problem,
    )
    return re.sub(r"such as \((-?[\d.]+), (-?[\d.]+)\)", r"such as \1,\2", problem)


def describe_augment(settings):
    """``"rand_augment_ops=2, mixup_alpha=0.2"``: the keys given, as the user wrote them."""
    if not settings:
        return "(none)"
    return ", ".join(
        f"{k}={','.join(f'{v:g}' for v in value)}"
        if isinstance(value, tuple)
        else f"{k}={value:g}"
        if isinstance(value, float)
        else f"{k}={value}"
        for k, value in settings.items()
    )
