"""What the benchmark scripts share: settings, targets, memory, children, results.

Every ``bench_<topic>.py`` script is built the same way, through :func:`main`:

- ``python benchmarks/bench_<topic>.py`` runs the full benchmark, prints its
  tables and appends them, with the machine line, to ``RESULTS.md``;
- ``--quick`` takes the script's ``QUICK`` settings instead of ``FULL``: the
  same code paths on small sizes, for a smoke test;
- each setting is also a flag (``--images 500``), which overrides both;
- ``--no-write`` prints only;
- ``--child NAME ARG ...`` is the child mode: it calls the script's function
  ``NAME`` with the JSON-decoded arguments and prints what it returns as one
  JSON line. :func:`run_child` starts it in a fresh process, for
  measurements (peak memory, decode counts, environment variables) that must
  not see what the parent process did.

``python benchmarks/_bench.py`` prints the targets table of the README.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections import namedtuple
from dataclasses import dataclass

import numpy as np

# TensorFlow is imported inside functions, after this (and inherited by children).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "RESULTS.md")

#: The seed article's augmentation settings.
ARTICLE = {
    "rotation_range": 20,
    "width_shift_range": 0.2,
    "height_shift_range": 0.2,
    "shear_range": 0.2,
    "zoom_range": 0.2,
    "horizontal_flip": True,
    "fill_mode": "nearest",
}


def article_cnn(meta, compile_kwargs):
    """The article's model: Conv2D 32 3x3, MaxPool, Flatten, Dense (a scikeras builder)."""
    import keras

    model = keras.Sequential(
        [
            keras.Input(meta["X_shape_"][1:]),
            keras.layers.Conv2D(32, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def random_images(n_images, size, seed=None):
    """``n_images`` random float32 RGB images, values 0-255, and 10 random classes."""
    rng = np.random.default_rng(size if seed is None else seed)
    X = (rng.random((n_images, size, size, 3)) * 255).astype(np.float32)
    return X, rng.integers(0, 10, n_images)


def article_batches(X, y, engine="vectorized", batch_size=32):
    """skimgaug's training batches of ``X`` with :data:`ARTICLE`'s settings, as in ``fit``."""
    from skimgaug._augment._batches import TrainingBatches
    from skimgaug._augment._keys import resolve_datagen
    from skimgaug._augment._transforms import make_augmenter

    config = resolve_datagen(ARTICLE, {})
    return TrainingBatches(
        X,
        y,
        None,
        None,
        make_augmenter(engine, config.augmenter()),
        config.standardizer(),
        batch_size=batch_size,
        shuffle=True,
        seed=0,
    )


# ----------------------------------------------------------------------------
# Targets
# ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """One target from the issues: what is measured, and the bound it must meet.

    Parameters
    ----------
    script : str
        The script that measures it.
    text : str
        What is measured, in words.
    op : {">=", "<=", "<", "==", "within"}
        ``"within"``: a ratio between ``1 / threshold`` and ``threshold``.
    threshold : float
    unit : str, default=""
        Appended to the threshold when it is shown (``"x"``, ``" MB"``).
    """

    script: str
    text: str
    op: str
    threshold: float
    unit: str = ""

    @property
    def bound(self):
        """The bound in words, e.g. ``">= 5x"`` or ``"within 1.5x either way"``."""
        if self.op == "within":
            return f"1/{self.threshold:g} to {self.threshold:g}"
        return f"{self.op} {self.threshold:g}{self.unit}"

    def met(self, value):
        """Whether ``value`` meets the target."""
        if self.op == "within":
            return 1 / self.threshold <= value <= self.threshold
        return {
            ">=": value >= self.threshold,
            "<=": value <= self.threshold,
            "<": value < self.threshold,
            "==": np.isclose(value, self.threshold),
        }[self.op]

    def verdict(self, value):
        """``"<= 1.1: met"`` or ``"<= 1.1: not met"``, for a table's target column."""
        return f"{self.bound}: {'met' if self.met(value) else 'not met'}"


#: Every target, stated once. The scripts print ``TARGETS[name].verdict(value)``.
TARGETS = {
    "throughput": Target(
        "bench_throughput.py",
        "images/s of the vectorized engine over `ImageDataGenerator.flow`, at every size",
        ">=",
        5,
        "x",
    ),
    "fit overhead": Target(
        "bench_fit_overhead.py",
        "epoch time with the article's augmentation over without (article CNN, 32x32x3)",
        "<=",
        1.10,
    ),
    "cv time": Target(
        "bench_cv_time.py",
        "five-fold `cross_val_score` wall time over the article's hand-written loop",
        "<=",
        0.7,
    ),
    "time left": Target(
        "bench_cv_time.py",
        "the CLI's first `remaining ~` estimate over the time the run really had left",
        "within",
        1.5,
    ),
    "fit memory": Target(
        "bench_memory.py",
        "peak RSS during `fit` minus RSS before, over the size of X (no copy of the data)",
        "<",
        1,
    ),
    "folder memory": Target(
        "bench_files_cache.py",
        "peak RSS (MB) of a 3-fold CV of a 20,000-image folder, without a cache",
        "<",
        1536,
        " MB",
    ),
    "cache time": Target(
        "bench_files_cache.py",
        "CV of a folder with `cache='auto'` over the same CV of the images in an array",
        "<=",
        1.2,
    ),
    "cache decodes": Target(
        "bench_files_cache.py",
        "files decoded per image during a CV with `cache='auto'`",
        "==",
        1,
    ),
    "disk cache memory": Target(
        "bench_files_cache.py",
        "peak RSS with `cache=<folder>` over `cache=None` (20,000-image folder)",
        "<=",
        1.10,
    ),
    "fresh process memory": Target(
        "bench_memory.py",
        "RSS of the calling process after fit 100 minus after fit 2, "
        "with `fresh_processes()` (a fresh worker process per fit)",
        "<=",
        50,
        " MB",
    ),
    "augment vs albumentations": Target(
        "bench_augment.py",
        "images/s per thread of the article's pipeline, skimgaug over albumentations, "
        "at every size and input type",
        ">=",
        1.5,
        "x",
    ),
    "augment vs keras": Target(
        "bench_augment.py",
        "images/s per thread of the article's pipeline, skimgaug over Keras layers in `tf.data`",
        ">=",
        5,
        "x",
    ),
    "kernels vs albumentations": Target(
        "bench_augment.py",
        "images/s per thread of each `augment` transform over its albumentations counterpart",
        ">=",
        1,
        "x",
    ),
    "augment fit overhead": Target(
        "bench_augment.py",
        "epoch time with every `augment` transform on over `augment=None` (default CNN, 32x32x3)",
        "<=",
        1.10,
    ),
}


def targets_markdown():
    """The targets as a markdown table (the README's)."""
    lines = ["| target | script | measured | bound |", "|---|---|---|---|"]
    for name, target in TARGETS.items():
        lines.append(f"| {name} | `{target.script}` | {target.text} | {target.bound} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------
# Memory
# ----------------------------------------------------------------------------
Memory = namedtuple("Memory", ["rss", "peak"])


def memory():
    """This process's resident memory now and at its peak, in bytes.

    Read from Linux's ``/proc/self/status`` (``VmRSS``, ``VmHWM``). Not
    ``resource.getrusage(...).ru_maxrss``: Linux keeps it across ``exec``, so a
    child started by a large process reports the parent's peak (which
    inflated an earlier, discarded run).

    Returns
    -------
    Memory
        ``(rss, peak)``.
    """
    values = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024  # reported in kB
    return Memory(values["VmRSS"], values["VmHWM"])


def megabytes(n_bytes):
    """Bytes as MB (2**20), for tables."""
    return n_bytes / 2**20


# ----------------------------------------------------------------------------
# Children: a script's function in a fresh process
# ----------------------------------------------------------------------------
class ChildFailed(RuntimeError):
    """A child process exited with an error; the message ends with its stderr."""


def run_child(script, child, *args, env=None):
    """Run ``child(*args)`` from ``script`` in a fresh Python process; return its result.

    Parameters
    ----------
    script : str
        A script's path (``__file__``) or its name in ``benchmarks/``
        (``"bench_memory"``).
    child : callable or str
        The function (or its name) that ``--child`` calls in that script.
    *args : JSON-serializable
        Its arguments, one command-line argument each.
    env : dict of str to str or None, optional
        Environment variables set (None: unset) for the child, on top of
        this process's.

    Returns
    -------
    object
        What the function returned, from the last JSON line it printed.
    """
    if os.sep not in script and not script.endswith(".py"):
        script = os.path.join(HERE, f"{script}.py")
    name = child if isinstance(child, str) else child.__name__
    command = [sys.executable, script, "--child", name, *(json.dumps(arg) for arg in args)]
    environment = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    completed = subprocess.run(command, capture_output=True, text=True, env=environment)
    if completed.returncode != 0:
        raise ChildFailed(
            f"{shlex.join(command)} exited with status {completed.returncode}:\n"
            f"{completed.stderr[-3000:]}"
        )
    for line in reversed(completed.stdout.splitlines()):
        if line.startswith(("{", "[")):
            return json.loads(line)
    raise ChildFailed(f"{shlex.join(command)} printed no JSON line:\n{completed.stdout[-3000:]}")


def _child_mode(children, argv):
    """``--child NAME ARG ...``: print ``NAME(*ARGS)`` as one JSON line."""
    name, *args = argv
    functions = {function.__name__: function for function in children}
    if name not in functions:
        raise SystemExit(f"unknown child {name!r}; this script has {sorted(functions)}")
    result = functions[name](*(json.loads(arg) for arg in args))
    print(json.dumps(result), flush=True)
    return 0


# ----------------------------------------------------------------------------
# Image folders
# ----------------------------------------------------------------------------
def write_folder(n_images, stored_size, formats=("png",), root=None):
    """Toy RGB images (:func:`~skimgaug.datasets.make_toy_images`, 2 classes) as files.

    Image ``i`` is ``root/class<label>/img<i:06d>.<format>``, the formats
    taken in turn (``("png", "jpeg")``: half each; JPEG at quality 90). A
    marker file records a finished folder, which is then reused by any call
    that needs as many images or fewer; an interrupted one is written again.

    Parameters
    ----------
    n_images : int
    stored_size : int
        Height and width of the stored images.
    formats : tuple of str, default=("png",)
    root : str, optional
        Default: ``skimgaug-bench-<size>px-<formats>`` in the temporary folder.

    Returns
    -------
    str
        The root folder; :func:`folder_images` lists its first images.
    """
    from PIL import Image

    from skimgaug.datasets import make_toy_images

    if root is None:
        name = f"skimgaug-bench-{stored_size}px-{'-'.join(formats)}"
        root = os.path.join(tempfile.gettempdir(), name)
    if os.path.isdir(root):
        done = [int(f.rpartition("-")[2]) for f in os.listdir(root) if f.startswith(".complete-")]
        if done and max(done) >= n_images:
            return root
    # Chunks of 500 images (those of earlier runs' 128 px folders), fewer for large ones.
    chunk = min(500, max(1, 2**28 // (8 * 3 * stored_size**2)))
    for start in range(0, n_images, chunk):
        X, y = make_toy_images(min(chunk, n_images - start), stored_size, 3, 2, random_state=start)
        for i, (image, label) in enumerate(zip(X, y, strict=True)):
            folder = os.path.join(root, f"class{label}")
            os.makedirs(folder, exist_ok=True)
            extension = formats[(start + i) % len(formats)]
            pixels = Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8))
            path = os.path.join(folder, f"img{start + i:06d}.{extension}")
            options = {"quality": 90} if extension in ("jpg", "jpeg") else {}
            pixels.save(path, **options)
    open(os.path.join(root, f".complete-{n_images}"), "w").close()
    return root


def folder_images(root, n_images):
    """Paths and labels of the images ``0`` to ``n_images - 1`` of a :func:`write_folder` folder."""
    from skimgaug.datasets import load_image_folder

    paths, labels = load_image_folder(root)
    index = np.array([int(os.path.basename(path)[3:9]) for path in paths])
    keep = index < n_images
    if keep.sum() != n_images:
        raise ValueError(f"{root} holds {keep.sum()} of the {n_images} images asked for")
    return paths[keep], labels[keep]


# ----------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------
def machine():
    """One line: CPU, cores, memory, and the versions that matter."""
    import keras
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {total:.0f} GiB; Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, NumPy {np.__version__}"
    )


def append_results(title, markdown, path=RESULTS):
    """Append ``## <date> UTC: <title>``, the machine line and ``markdown`` to ``path``.

    Earlier entries are never touched; a blank line separates the new one.
    """
    now = datetime.datetime.now(datetime.timezone.utc)
    entry = f"## {now:%Y-%m-%d %H:%M} UTC: {title}\n\nMachine: {machine()}\n\n"
    entry += markdown.strip("\n") + "\n"
    previous = ""
    if os.path.exists(path):
        with open(path) as f:
            previous = f.read()
    if previous and not previous.endswith("\n\n"):
        entry = ("\n" if previous.endswith("\n") else "\n\n") + entry
    with open(path, "a") as f:
        f.write(entry)


class Report:
    """Markdown printed as it comes and kept for ``RESULTS.md``."""

    def __init__(self):
        self.lines = []

    def __call__(self, text=""):
        """Print one line (or paragraph) and keep it."""
        print(text, flush=True)
        self.lines.append(text)

    def table(self, header, rows=()):
        """A markdown table: ``header`` cells, then ``rows`` (each a sequence of cells)."""
        self("| " + " | ".join(header) + " |")
        self("|" + "---|" * len(header))
        for row in rows:
            self.row(*row)

    def row(self, *cells):
        """One table row, printed as soon as it is measured."""
        self("| " + " | ".join(str(cell) for cell in cells) + " |")

    def markdown(self):
        """Everything reported, as one markdown text."""
        return "\n".join(self.lines)


def _setting_type(value):
    if isinstance(value, tuple):
        return lambda text: tuple(int(part) for part in text.split(","))
    return type(value)


def _shown(value):
    return ",".join(map(str, value)) if isinstance(value, tuple) else value


def main(doc, title, run, full, quick, children=(), helps=None, argv=None):
    """Command line of a benchmark script (see the module docstring).

    Parameters
    ----------
    doc : str
        The script's docstring: its first line describes the script in ``--help``.
    title : str
        The heading of its ``RESULTS.md`` entry (``"fit overhead"``).
    run : callable
        ``run(settings, report)`` measures and reports, ``report`` a :class:`Report`.
    full, quick : dict
        Settings of the full run and of ``--quick`` (same keys); each key is
        also a flag (``folder_images`` -> ``--folder-images``). A tuple value
        is given as comma-separated integers.
    children : sequence of callable, default=()
        The functions ``--child`` may call (see :func:`run_child`).
    helps : dict of str to str, optional
        Help text per setting.
    argv : list of str, optional
        Default: ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--child"]:
        return _child_mode(children, argv[1:])
    parser = argparse.ArgumentParser(
        description=doc.strip().splitlines()[0],
        epilog="Each setting flag overrides both the full and the --quick value.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument(
        "--no-write", action="store_true", help="print only (nothing appended to RESULTS.md)"
    )
    helps = helps or {}
    for key, value in full.items():
        parser.add_argument(
            "--" + key.replace("_", "-"),
            dest=key,
            type=_setting_type(value),
            metavar="N" if not isinstance(value, tuple) else "N,N,...",
            help=f"{helps.get(key, key)} (full: {_shown(value)}; --quick: {_shown(quick[key])})",
        )
    args = parser.parse_args(argv)
    settings = dict(quick if args.quick else full)
    settings.update({key: getattr(args, key) for key in full if getattr(args, key) is not None})
    report = Report()
    start = time.perf_counter()
    run(settings, report)
    minutes = (time.perf_counter() - start) / 60
    command = shlex.join(["python", f"benchmarks/{os.path.basename(sys.argv[0])}", *argv])
    report(f"Ran `{command}` in {minutes:.1f} min.")
    if not args.no_write:
        append_results(title + (" (quick)" if args.quick else ""), report.markdown())
        print(f"appended to {RESULTS}")
    return 0


if __name__ == "__main__":
    print(targets_markdown())
