"""``skimgaug export``: a saved model as one ONNX file or SavedModel, its preprocessing inside."""

import argparse
import os
import sys

from . import _options as options
from . import _quiet as quiet


def add_parser(commands):
    parser = commands.add_parser(
        "export",
        help="export a saved model for deployment (ONNX or TensorFlow SavedModel)",
        description=(
            "Export a model saved by 'skimgaug train' (or skimgaug.save_model) as one graph "
            "from raw pixels to predictions: the standardization (rescale, feature-wise "
            "statistics, ZCA, a Keras-registered preprocessing_function) runs inside it, "
            "so it needs neither skimgaug nor Python's NumPy code to run. Input: float32 "
            "images of the fitted size and channels (cast uint8 images). Output: the class "
            "(or label) probabilities, or the predicted values. Test-time augmentation is "
            "not exported. ONNX needs the export extra: pip install 'skimgaug[export]'."
        ),
        epilog=(
            "examples:\n"
            "  skimgaug export scans-model/ --format onnx --out scans.onnx\n"
            "  skimgaug export scans-model/ --format saved_model --out scans-savedmodel/"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model_dir", metavar="MODEL_DIR", help="a folder written by train")
    parser.add_argument(
        "--format", choices=("onnx", "saved_model"), default="onnx", help="what to write (onnx)"
    )
    parser.add_argument(
        "--out", metavar="PATH", required=True, help="the .onnx file or SavedModel folder to write"
    )
    options.add_common_options(parser, ("traceback",), defaults=False)
    return parser


def run(args, out=None):
    out = out or sys.stdout
    if not os.path.isdir(args.model_dir):
        raise options.UsageError(f"MODEL_DIR {args.model_dir!r} is not a folder")
    if os.path.exists(args.out):
        raise options.UsageError(f"--out {args.out!r} exists; give a new file or folder")
    folder = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(folder):
        raise options.UsageError(f"--out {args.out!r}: the folder {folder!r} does not exist")
    if args.format == "onnx":
        from .._persistence._export import _check_onnx_packages

        try:
            _check_onnx_packages()
        except ImportError as exc:
            raise options.UsageError(str(exc)) from None
    with quiet.without_cpp_logs():
        from .._persistence._export import export_model
        from .._persistence._folder import load_model

        estimator = load_model(args.model_dir)
        quiet.import_tensorflow_quietly()
        metadata = export_model(estimator, args.out, format=args.format)
    shape = "x".join(str(d) for d in metadata["input"]["shape"][1:])
    print(
        f"skimgaug: exported {args.model_dir} to {args.out} ({args.format}): input 'pixels' "
        f"float32 (batch x {shape}), output {metadata['output']} "
        f"({', '.join(metadata['columns'][:10])}"
        f"{' ...' if len(metadata['columns']) > 10 else ''}); test-time augmentation is "
        "not exported",
        file=out,
    )
    return metadata
