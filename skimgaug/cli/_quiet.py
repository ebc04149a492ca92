"""TensorFlow's C++ log lines kept off the terminal, in this process and in local workers."""

import contextlib
import importlib
import os
import re
import sys
import tempfile
import threading

#: A line of TensorFlow's C++ (absl) logging, such as
#: "E0000 00:00:1795613249.997777    5787 cuda_platform.cc:52] failed call to cuInit: ...".
_CPP_LOG_LINE = re.compile(
    r"[IWEF]\d{4} [\d:.]+ +\d+ \S+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
)


def import_tensorflow_quietly():
    """Import the classifier (and TensorFlow) with TensorFlow's C++ log lines hidden."""
    with without_cpp_logs():
        importlib.import_module("skimgaug._estimator._classifier")


@contextlib.contextmanager
def without_cpp_logs():
    """Keep TensorFlow's C++ log lines off stderr while TensorFlow loads.

    ``TF_CPP_MIN_LOG_LEVEL=3`` silences them once absl logging is set up, but
    lines logged while TensorFlow's libraries load (cuda stubs) come before
    that and are written whatever the level. Meanwhile file descriptor 2
    points to a temporary file; its other lines are then written to stderr.
    Does nothing once TensorFlow is loaded, or when the user chose a level.
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") != "3" or "tensorflow" in sys.modules:
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:  # no stderr
        yield
        return
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not _CPP_LOG_LINE.match(line))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()


@contextlib.contextmanager
def cpp_logs_of_workers_hidden():
    """Drop TensorFlow's C++ log lines that local worker processes write to stderr.

    Worker processes load TensorFlow themselves, and its libraries write some
    lines whatever ``TF_CPP_MIN_LOG_LEVEL`` says (see
    :func:`without_cpp_logs`). Meanwhile file
    descriptor 2, which the workers started now inherit, is a pipe whose
    other lines a thread passes on to stderr as they come. Does nothing when
    the user chose a log level.
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") != "3":
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:  # no stderr
        yield
        return
    read_end, write_end = os.pipe()
    sys.stderr.flush()
    os.dup2(write_end, 2)
    os.close(write_end)

    def forward():
        # Until every writer is gone: joblib keeps idle workers for a while.
        with os.fdopen(read_end, "rb") as pipe:
            for line in pipe:
                if not _CPP_LOG_LINE.match(line.decode(errors="replace")):
                    os.write(saved, line)

    threading.Thread(target=forward, name="skimgaug-stderr", daemon=True).start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
