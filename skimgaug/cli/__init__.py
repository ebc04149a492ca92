"""The ``skimgaug`` command line.

``skimgaug`` (no arguments)
    Stratified 5-fold cross-validation of the default CNN on scikit-learn's
    bundled 8x8 digits (no download), without and with augmentation on the
    same folds.
``skimgaug cv SOURCE``
    The same for a folder of images (one subfolder per class) or a CSV of
    image paths and labels, with groups, model, augmentation and outputs.
``skimgaug train SOURCE --out MODEL_DIR``
    Fit one model on all the data and save it.
``skimgaug search SOURCE --grid KEY=V1,V2 --out DIR``
    Grid search (scikit-learn's GridSearchCV) on the cv command's folds:
    ranking, cv_results.csv, best.json and an HTML report.
``skimgaug predict MODEL_DIR SOURCE --out predictions.csv``
    A saved model's predictions for new images.
``skimgaug preview SOURCE``
    Images and augmented copies of them, as training draws them, in a PNG.

Each command lives in its own module of ``skimgaug.cli``. Heavy imports
happen inside the functions, so ``--help`` is instant, and everything that can
be checked without TensorFlow is checked before it is imported. Exit statuses:
2 for a bad command line (with the usage), 1 for a failure, 130 when
interrupted (Ctrl-C), each with a one-line message and no traceback
(``--traceback`` shows it). TensorFlow's C++ log lines are kept off the
terminal unless ``TF_CPP_MIN_LOG_LEVEL`` is set.
"""

import argparse
import contextlib
import difflib
import os
import re
import sys
import warnings

from .._version import __version__
from . import _common as common
from . import _options as options
from . import cv, export, predict, preview, search, train
from ._options import UsageError, parse_datagen, parse_value

__all__ = ["UsageError", "build_parser", "main", "parse_datagen", "parse_value"]

#: The command modules, in the order ``--help`` lists them.
COMMANDS = {
    "cv": cv,
    "search": search,
    "train": train,
    "predict": predict,
    "preview": preview,
    "export": export,
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line: ``skimgaug cv: error: ...``.

    argparse would print the whole usage block first; ``--help`` shows it.
    The commands' parsers are made by this class too.
    """

    #: Every option of every command, by option string: the command names (main sets it
    #: on the top-level parser, whose errors these hints serve; empty on the commands' parsers).
    command_options = {}
    #: The command line being parsed (main sets it on the top-level parser), for hints.
    argv = ()

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}{self._hint(message)}\n")

    def _hint(self, message):
        """A suggestion for an unknown option or an option placed before its command."""
        known = self.command_options
        if message.startswith("unrecognized arguments:"):
            hints = []
            for token in message.split(":", 1)[1].split():
                name = token.split("=", 1)[0]
                if name.startswith("--") and name not in known:
                    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
                    if close:
                        hints.append((close[0], name))
            if len(hints) == 1:
                return f"; did you mean {hints[0][0]}?"
            shown = ", ".join(f"{right} for {wrong}" for right, wrong in hints)
            return f"; did you mean {shown}?" if hints else ""
        match = re.search(r"invalid choice: '([^']*)'", message)
        if match and "COMMAND" in message:
            argv = list(self.argv)
            value = match.group(1)
            before = argv[argv.index(value) - 1] if value in argv[1:] else None
            if before in known:
                return (
                    f"; {before} is an option of {', '.join(known[before])}: give it after "
                    f"the command, e.g. skimgaug {known[before][0]} ... {before} {value}"
                )
        return ""


def _build_parsers():
    """The top-level parser and each command's parser, by name."""
    parser = _Parser(
        prog="skimgaug",
        description=(
            "Leak-free k-fold cross-validation of Keras image classifiers: augmentation "
            "is applied to training folds only. Without a command, cross-validates the "
            "default CNN on scikit-learn's bundled 8x8 digits, without and with "
            "augmentation on the same stratified folds. Options given before a command "
            "apply to it too."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    options.add_common_options(
        parser, ("folds", "epochs", "batch_size", "seed", "traceback"), defaults=True
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    parsers = {name: module.add_parser(commands) for name, module in COMMANDS.items()}
    return parser, parsers


def _command_options(parsers):
    """``{option string: [commands that have it]}``."""
    found = {}
    for name, command_parser in parsers.items():
        for action in command_parser._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help":
                    found.setdefault(option, []).append(name)
    return found


def _check_options_apply(parser, command_parser, args):
    """An option given before a command that the command does not have is an error."""
    own = {action.dest for action in command_parser._actions}
    for action in parser._actions:
        if not action.option_strings or action.dest in own or action.dest == "help":
            continue
        if getattr(args, action.dest, action.default) != action.default:
            command_parser.error(f"{action.option_strings[0]} does not apply to {args.command}")


def build_parser():
    """The argument parser (exposed for tests and documentation)."""
    return _build_parsers()[0]


def run(args, out=None):
    """Run the command that parsed ``args`` describe; return its result."""
    return COMMANDS[args.command].run(args, out)


def main(argv=None):
    """Entry point of the ``skimgaug`` console script; returns the exit status."""
    parser, parsers = _build_parsers()
    # Read by the top-level parser's hints (its errors: unknown options, a bad command).
    parser.argv = tuple(sys.argv[1:] if argv is None else argv)
    parser.command_options = _command_options(parsers)
    args = parser.parse_args(argv)
    if args.command is None:  # the digits demo, with the options given
        args = parser.parse_args(["cv", "--digits", "--compare"], namespace=args)
    _check_options_apply(parser, parsers[args.command], args)
    # Silences TensorFlow's C++ logging once it is set up (level 2 lets ERROR lines through).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # After Ctrl-C, joblib's resource tracker (a process of its own, started by
    # --n-jobs) would warn about the semaphores of the workers it stopped.
    quiet_tracker = "ignore::UserWarning:joblib.externals.loky.backend.resource_tracker"
    given = os.environ.get("PYTHONWARNINGS", "")
    if quiet_tracker not in given.split(","):  # once, however often main() runs
        os.environ["PYTHONWARNINGS"] = f"{given},{quiet_tracker}" if given else quiet_tracker
    try:
        with _warnings_as_lines():
            run(args)
    except UsageError as exc:
        parsers[args.command].error(str(exc))
    except KeyboardInterrupt:
        print("skimgaug: interrupted", file=sys.stderr)
        if argv is None:  # the program itself: exit now (outputs are already written)
            _exit_now(130)
        return 130
    except Exception as exc:
        if args.traceback:
            raise
        print(f"skimgaug: error: {common.one_line(exc)}", file=sys.stderr)
        return 1
    return 0


@contextlib.contextmanager
def _warnings_as_lines():
    """Each warning as one ``skimgaug: warning: ...`` line, a repeated one once.

    Python's own format names a file and line of skimgaug's or Keras' code
    and repeats its source line; the same warning from every fold (a few
    groups, say) would be printed once per fold.
    """
    shown = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = f"skimgaug: warning: {message}"
        if text not in shown:
            shown.add(text)
            print(text, file=sys.stderr, flush=True)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def _exit_now(status):
    """End the process at once, not waiting for threads still making batches.

    After Ctrl-C, a batch-producing thread of TensorFlow's input pipeline may
    be blocked on a queue nobody reads any more; a normal exit would wait for
    it, and the command would seem to hang.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
