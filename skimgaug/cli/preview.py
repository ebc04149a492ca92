"""``skimgaug preview``: a grid of images and their random augmentations, as a PNG."""

import argparse
import os
import sys

from . import _common as common
from . import _options as options
from . import _quiet as quiet


def _preview_type(name):
    """The type of ``--n``/``--images``: plot_augmentations' own check, imported when used."""

    def convert(text):
        from .._augment._preview import PREVIEW_CONSTRAINTS

        check = options.option_type(name, PREVIEW_CONSTRAINTS[name], owner="plot_augmentations")
        return check(text)

    return convert


def add_parser(commands):
    parser = commands.add_parser(
        "preview",
        help="draw images and augmented copies of them, as training draws them, to a PNG",
        description=(
            "Draw a grid: one row per sampled image, the original and then N augmented "
            "versions drawn as training draws them (same engine, distributions and seed "
            "handling). Random transforms are shown before standardization (rescale and "
            "feature-wise statistics are not viewable). SOURCE is an image folder, a CSV "
            "of image paths, or --digits."
        ),
        epilog=(
            "examples:\n"
            "  skimgaug preview --digits --datagen rotation_range=20 --out preview.png\n"
            "  skimgaug preview scans/ --datagen zoom_range=0.2 --datagen horizontal_flip=true \\\n"
            "      --n 6 --images 4 --image-size 128x128 --out preview.png"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    options.add_source_options(parser, groups=False)
    options.add_common_options(parser, ("seed", "traceback"), defaults=False)
    options.add_image_options(parser)
    options.add_datagen_option(parser)
    from ._augment_option import add_augment_option

    add_augment_option(parser)
    parser.add_argument(
        "--n", type=_preview_type("n"), default=8, help="augmented copies per image (8)"
    )
    parser.add_argument(
        "--images", type=_preview_type("images"), default=6, help="images (rows) to show (6)"
    )
    parser.add_argument(
        "--engine",
        choices=("vectorized", "imagedatagenerator"),
        default="vectorized",
        help="the augmentation engine, as the estimator's engine parameter (vectorized)",
    )
    parser.add_argument("--out", metavar="FILE.png", required=True, help="the PNG to write")
    return parser


def run(args, out=None):
    out = out or sys.stdout
    common.check_source_args(args)
    if not args.out.lower().endswith(".png"):
        raise options.UsageError(f"--out {args.out!r}: give a file name ending in .png")
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        raise options.UsageError(f"--out {args.out!r}: the folder {folder!r} does not exist")
    args.model = None  # the data's defaults (rescale is not shown anyway)
    datagen = common.default_datagen(args)
    X = common.load_source(args)[0]
    from .._augment._preview import save_augmentation_preview
    from ._augment_option import parse_augment

    with quiet.without_cpp_logs():
        save_augmentation_preview(
            X,
            datagen,
            args.out,
            n=args.n,
            images=args.images,
            random_state=args.seed,
            engine=args.engine,
            target_size=args.image_size,
            color_mode=args.color_mode,
            window=args.window,
            augment=parse_augment(args.augment),
        )
    print(f"wrote {args.out} ({min(args.images, len(X))} images x {args.n} copies)", file=out)
    return args.out
