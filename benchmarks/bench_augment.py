"""Augmentation per thread: skimgaug's engine against albumentations and Keras layers.

Images per second on one thread (OpenCV, BLAS and TensorFlow each held to
one thread), batches of 32 random RGB images at 64, 128 and 224 pixels,
stored as uint8 and as float32:

1. the seed article's ``ImageDataGenerator`` settings (rotation 40, shifts
   0.2, shear 0.2, zoom 0.2, horizontal flip, ``fill_mode="nearest"``):
   skimgaug's vectorized engine, the same pipeline in albumentations (image
   by image, as albumentations works) and Keras 3 preprocessing layers in a
   ``tf.data`` pipeline over batches. Targets: skimgaug >= 1.5x
   albumentations and >= 5x Keras layers, at every size and input type;
2. each transform of the ``augment`` parameter (gamma, contrast,
   saturation, hue, noise, blur, CLAHE, random erasing, elastic
   deformation, RandAugment, TrivialAugment, MixUp, CutMix), skimgaug's
   vectorized kernel against its albumentations and Keras counterparts
   where they exist. Target: skimgaug at least as fast as albumentations;
3. the epoch time of the default CNN at 32x32 px (2,000 toy images, 3
   epochs) with every ``augment`` transform on, over the epoch time without
   (in a fresh process, with the usual threads). Target: <= 1.10.

Every producer makes what a model trains on, a float32 batch: skimgaug's
rows include the copy (or uint8 to float32 conversion) of the stored batch,
albumentations' rows write each augmented image into a float32 batch (uint8
results converted on the way). The producers compared in a row run in
interleaved rounds, so that a busy spell of a shared machine hits them all.
albumentations is optional (``pip install -e ".[bench]"``): without it,
its columns say "not installed".

Run from the repository root::

    python benchmarks/bench_augment.py            # about 4 min on 2 cores
    python benchmarks/bench_augment.py --quick    # smoke test (64 px, short rounds)
"""

import contextlib
import importlib
import math
import os
import sys
import time
from collections import namedtuple

import _bench as bench
import numpy as np

FULL = {"sizes": (64, 128, 224), "seconds": 0.6, "rounds": 3, "images": 2000, "repeats": 7}
QUICK = {"sizes": (64,), "seconds": 0.15, "rounds": 2, "images": 400, "repeats": 1}
HELPS = {
    "sizes": "image sizes",
    "seconds": "seconds each producer runs per size and input type, over all rounds",
    "rounds": "interleaved timed rounds per producer (the fastest counts)",
    "images": "toy images of the epoch-time part",
    "repeats": "interleaved fits per path in the epoch-time part",
}

BATCH = 32
#: Stored batches cycled through by every producer.
POOL_BATCHES = 4
DTYPES = ("uint8", "float32")
#: Thread settings of the measuring process (the epoch-time child keeps the user's).
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)
#: The article's settings of this benchmark: ``bench.ARTICLE`` with a rotation of 40.
ARTICLE = {**bench.ARTICLE, "rotation_range": 40}
#: Keras' CLAHE layer builds one-hot histograms: at 224 px and batch 32 it took
#: 11.6 GB and 34 s to trace on the 2-core machine, so it is measured up to this size.
KERAS_CLAHE_MAX_SIZE = 128
#: Elastic deformation of skimgaug and albumentations: alpha and sigma in pixels.
ELASTIC = (34.0, 4.0)
#: The ``augment`` of the epoch-time part: every transform on.
EVERY_TRANSFORM = {
    "rand_augment_ops": 2,
    "gamma_range": (0.8, 1.2),
    "contrast_range": (0.8, 1.2),
    "saturation_range": (0.8, 1.2),
    "hue_range": (-0.05, 0.05),
    "gaussian_noise_std": 0.02,
    "blur_sigma_range": (0, 1),
    "clahe_clip_limit": 2.0,
    "erasing_probability": 0.25,
    "elastic_alpha": 2.0,
    "mixup_alpha": 0.2,
    "cutmix_alpha": 1.0,
}
NOT_INSTALLED = "not installed"


# ----------------------------------------------------------------------------
# One thread, and how fast
# ----------------------------------------------------------------------------
def limit_threads():
    """Hold this process to one thread (environment, TensorFlow) from now on.

    Returns
    -------
    dict
        The variables' values before (None: unset), for the child that must
        not inherit them.
    """
    before = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no version check online
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return before


@contextlib.contextmanager
def one_thread():
    """OpenCV and NumPy's BLAS on one thread inside the block; restored after."""
    import cv2
    from threadpoolctl import threadpool_limits

    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        cv2.setNumThreads(previous)


def rates(producers, seconds, rounds):
    """Images/s of each producer (one batch a call): the fastest of its rounds.

    Each producer is called once untimed (which traces Keras functions), then
    the rounds are interleaved: round 1 of every producer, round 2 of every
    producer, ... each round lasting ``seconds / rounds`` and at least one call.

    Parameters
    ----------
    producers : dict of str to callable or str
        A string (the reason a producer is missing) is passed through.
    """
    timed = {name: produce for name, produce in producers.items() if callable(produce)}
    for produce in timed.values():
        produce()
    best = {name: 0.0 for name in timed}
    for _ in range(rounds):
        for name, produce in timed.items():
            start = time.perf_counter()
            calls = 0
            while True:
                produce()
                calls += 1
                elapsed = time.perf_counter() - start
                if elapsed >= seconds / rounds:
                    break
            best[name] = max(best[name], calls * BATCH / elapsed)
    return {name: best.get(name, produce) for name, produce in producers.items()}


class Pool:
    """The stored batches of one size and input type, handed out in turn.

    ``images`` hold values 0-255 (skimgaug and Keras), ``unit_images`` the
    same images in albumentations' units (0-1 for float32).
    """

    def __init__(self, size, dtype):
        rng = np.random.default_rng(size)
        images = rng.integers(0, 256, (POOL_BATCHES * BATCH, size, size, 3), dtype=np.uint8)
        self.images = images.astype(dtype)
        self.unit_images = self.images if dtype == "uint8" else self.images / np.float32(255)
        self.targets = np.eye(10, dtype=np.float32)[rng.integers(0, 10, len(images))]
        self.calls = 0

    def next(self):
        """The next batch's slice, and a seed of its own."""
        start = (self.calls % POOL_BATCHES) * BATCH
        self.calls += 1
        return slice(start, start + BATCH), self.calls


def training_batch(batch):
    """The float32 batch skimgaug trains on: a copy, converted from uint8 if need be."""
    return batch.astype(np.float32)


def albumentations():
    """The albumentations module, or None when it is not installed."""
    try:
        import albumentations
    except ImportError:
        return None
    return albumentations


def albumentations_producer(pool, transform):
    """``transform`` image by image over the pool, each result written into a float32 batch."""
    out = np.empty(pool.images[:BATCH].shape, dtype=np.float32)

    def produce():
        rows, _ = pool.next()
        for i, image in enumerate(pool.unit_images[rows]):
            out[i] = transform(image=image)["image"]

    return produce


def keras_producer(pool, layer, labels=False):
    """A ``tf.data`` map of ``layer`` over the pool's batches; one batch a call."""
    import tensorflow as tf

    if labels:
        dataset = tf.data.Dataset.from_tensor_slices((pool.images, pool.targets)).batch(BATCH)
        dataset = dataset.map(
            lambda x, y: layer({"images": tf.cast(x, tf.float32), "labels": y}, training=True)
        )
    else:
        dataset = tf.data.Dataset.from_tensor_slices(pool.images).batch(BATCH)
        dataset = dataset.map(lambda x: layer(tf.cast(x, tf.float32), training=True))
    options = tf.data.Options()
    options.threading.private_threadpool_size = 1
    options.threading.max_intra_op_parallelism = 1
    options.autotune.enabled = False
    batches = iter(dataset.repeat().with_options(options))
    return lambda: next(batches)


def ratio_cells(ours, theirs, target=None):
    """``"**2.34x**"`` and the target's verdict, or blanks when ``theirs`` is missing."""
    if not isinstance(theirs, float):
        return ("", "") if target else ("",)
    ratio = ours / theirs
    cell = f"**{ratio:.2f}x**" if ratio < 10 else f"**{ratio:.0f}x**"
    return (cell, target.verdict(ratio)) if target else (cell,)


def shown(value):
    """A rate as a table cell: ``"1,234"``, or the reason it is missing."""
    return f"{value:,.0f}" if isinstance(value, float) else value


# ----------------------------------------------------------------------------
# 1. The article's pipeline
# ----------------------------------------------------------------------------
def article_skimgaug(pool):
    """skimgaug's vectorized engine with the article's settings."""
    from skimgaug._augment._keys import resolve_datagen
    from skimgaug._augment._transforms import make_augmenter
    from skimgaug._augment._warp import single_threaded_opencv

    augmenter = make_augmenter("vectorized", resolve_datagen(ARTICLE, {}).augmenter())

    def produce():
        rows, seed = pool.next()
        with single_threaded_opencv():
            augmenter(training_batch(pool.images[rows]), np.random.RandomState(seed))

    return produce


def article_albumentations(pool, A):
    """The same pipeline in albumentations."""
    import cv2

    pipeline = A.Compose(
        [
            A.Affine(
                rotate=(-40, 40),
                translate_percent={"x": (-0.2, 0.2), "y": (-0.2, 0.2)},
                shear={"x": (-0.2, 0.2), "y": (0, 0)},  # degrees, as ImageDataGenerator's
                scale={"x": (0.8, 1.2), "y": (0.8, 1.2)},
                border_mode=cv2.BORDER_REPLICATE,
                p=1,
            ),
            A.HorizontalFlip(p=0.5),
        ]
    )
    return albumentations_producer(pool, pipeline)


def article_keras(pool):
    """The same pipeline in Keras 3 preprocessing layers (one warp per layer)."""
    import keras

    shear = math.tan(math.radians(ARTICLE["shear_range"]))  # degrees to Keras' factor
    layers = keras.Sequential(
        [
            keras.layers.RandomRotation(40 / 360, fill_mode="nearest", seed=0),
            keras.layers.RandomTranslation(0.2, 0.2, fill_mode="nearest", seed=1),
            keras.layers.RandomShear(shear, 0.0, fill_mode="nearest", seed=2),
            keras.layers.RandomZoom(0.2, fill_mode="nearest", seed=3),
            keras.layers.RandomFlip("horizontal", seed=4),
        ]
    )
    return keras_producer(pool, layers)


def article_rates(size, dtype, seconds, rounds):
    """Images/s of the article's pipeline in skimgaug, albumentations and Keras."""
    pool = Pool(size, dtype)
    A = albumentations()
    producers = {
        "skimgaug": article_skimgaug(pool),
        "albumentations": article_albumentations(pool, A) if A else NOT_INSTALLED,
        "keras": article_keras(pool),
    }
    with one_thread():
        return rates(producers, seconds, rounds)


def report_article(settings, report):
    """Part 1: the article's pipeline, one row per size and input type."""
    versus_albumentations = bench.TARGETS["augment vs albumentations"]
    versus_keras = bench.TARGETS["augment vs keras"]
    report("### 1. The article's pipeline, images/s per thread (batch 32, RGB)")
    report()
    report(
        "Rotation 40, shifts 0.2, shear 0.2 (degrees, as `ImageDataGenerator`'s), zoom 0.2, "
        "horizontal flip, `fill_mode='nearest'`. skimgaug: the vectorized engine, the "
        "uint8 to float32 conversion (or float32 copy) of the batch included. albumentations: "
        "`Compose([Affine(..., border_mode=cv2.BORDER_REPLICATE), HorizontalFlip()])` image "
        "by image (float32 images in 0-1, its convention), each result written into a float32 "
        "batch. Keras: RandomRotation, RandomTranslation, RandomShear, RandomZoom and "
        "RandomFlip in a `tf.data` map over batches (one warp per layer)."
    )
    report()
    header = ["size", "input", "skimgaug", "albumentations", "Keras layers"]
    header += ["skimgaug / albumentations", "target", "skimgaug / Keras", "target"]
    report.table(header)
    for size in settings["sizes"]:
        for dtype in DTYPES:
            measured = article_rates(size, dtype, settings["seconds"], settings["rounds"])
            ours = measured["skimgaug"]
            report.row(
                f"{size}x{size}",
                dtype,
                shown(ours),
                shown(measured["albumentations"]),
                shown(measured["keras"]),
                *ratio_cells(ours, measured["albumentations"], versus_albumentations),
                *ratio_cells(ours, measured["keras"], versus_keras),
            )
    report()


# ----------------------------------------------------------------------------
# 2. Each transform of ``augment``
# ----------------------------------------------------------------------------
#: One transform: skimgaug's kernel ``(module, function, args, kwargs)``, its
#: albumentations counterpart ``(class, kwargs)`` and its Keras one ``(class,
#: args, kwargs)``, each None where there is none. Keras arguments given as a
#: callable are called with the image size.
Transform = namedtuple("Transform", ["name", "settings", "ours", "theirs", "keras"])

#: Keras' saturation factor f multiplies the saturation by f / (1 - f): 0.7 to 1.3.
_KERAS_SATURATION = (0.7 / 1.7, 1.3 / 2.3)

TRANSFORMS = (
    Transform(
        "gamma",
        "0.7-1.5",
        ("_photometric", "gamma", ((0.7, 1.5),), {}),
        ("RandomGamma", {"gamma_limit": (70, 150)}),
        None,
    ),
    Transform(
        "contrast",
        "0.7-1.3",
        ("_photometric", "contrast", ((0.7, 1.3),), {}),
        ("RandomBrightnessContrast", {"brightness_limit": 0, "contrast_limit": (-0.3, 0.3)}),
        ("RandomContrast", (0.3,), {}),
    ),
    Transform(
        "saturation",
        "0.7-1.3",
        ("_photometric", "saturation", ((0.7, 1.3),), {}),
        ("ColorJitter", {"brightness": 0, "contrast": 0, "saturation": (0.7, 1.3), "hue": 0}),
        ("RandomSaturation", (_KERAS_SATURATION,), {}),
    ),
    Transform(
        "hue",
        "+-0.05 turn",
        ("_photometric", "hue", ((-0.05, 0.05),), {}),
        ("ColorJitter", {"brightness": 0, "contrast": 0, "saturation": 0, "hue": 0.05}),
        ("RandomHue", ((0.0, 0.1),), {}),
    ),
    Transform(
        "gaussian_noise",
        "std 0.05 of the range",
        ("_filters", "gaussian_noise", (0.05,), {"rescale": 1 / 255}),
        ("GaussNoise", {"std_range": (0.05, 0.05), "mean_range": (0, 0)}),
        ("GaussianNoise", (0.05,), {}),
    ),
    Transform(
        "gaussian_blur",
        "sigma 0.5-1.5",
        ("_filters", "gaussian_blur", ((0.5, 1.5),), {}),
        ("GaussianBlur", {"sigma_limit": (0.5, 1.5), "blur_limit": 0}),
        ("RandomGaussianBlur", (1.0,), {"kernel_size": 9, "sigma": (0.5, 1.5)}),
    ),
    Transform(
        "clahe",
        "clip 2.0, 8x8 tiles",
        ("_filters", "clahe", (2.0,), {}),
        ("CLAHE", {"clip_limit": (2.0, 2.0), "tile_grid_size": (8, 8)}),
        ("ContrastLimitedAdaptiveHistogramEqualization", (), {"clip_limit": 2.0}),
    ),
    Transform(
        "random_erasing",
        "p=1, area 0.02-0.33",
        ("_erasing", "random_erasing", (1.0,), {"scale": (0.02, 0.33)}),
        ("Erasing", {"scale": (0.02, 0.33), "ratio": (0.3, 3.3), "fill": "random"}),
        ("RandomErasing", (1.0,), {"scale": (0.02, 0.33)}),
    ),
    Transform(
        "elastic",
        f"alpha {ELASTIC[0]:g}, sigma {ELASTIC[1]:g} px",
        ("_elastic", "elastic", ELASTIC, {}),
        (
            "ElasticTransform",
            {"alpha": ELASTIC[0], "sigma": ELASTIC[1], "noise_distribution": "uniform"},
        ),
        # Keras' smoothing is 0.05 * scale * size px (scale <= 1): 4 px where it can be.
        ("RandomElasticTransform", (1.0,), {"scale": lambda size: (min(1.0, 80 / size),) * 2}),
    ),
    Transform(
        "rand_augment",
        "2 ops, magnitude 0.5",
        ("_randaugment", "rand_augment", (2, 0.5), {}),
        None,
        ("RandAugment", (), {"num_ops": 2, "factor": 0.5}),
    ),
    Transform("trivial_augment", "wide", ("_randaugment", "trivial_augment", (), {}), None, None),
    Transform(
        "mix_batch (MixUp)",
        "alpha 0.2",
        ("_mixing", "mix_batch", (0.2, 0.0), {}),
        None,
        ("MixUp", (), {"alpha": 0.2}),
    ),
    Transform(
        "mix_batch (CutMix)",
        "alpha 1.0",
        ("_mixing", "mix_batch", (0.0, 1.0), {}),
        None,
        ("CutMix", (1.0,), {}),
    ),
)
#: Keras layers that take no ``value_range``, or mix images with their labels.
_NO_VALUE_RANGE = ("GaussianNoise", "MixUp", "CutMix")
_WITH_LABELS = ("MixUp", "CutMix")


#: Each kernel as the ``augment`` setting that switches it on in ``fit``.
_AS_AUGMENT = {
    "gamma": lambda args, kw: {"gamma_range": args[0]},
    "contrast": lambda args, kw: {"contrast_range": args[0]},
    "saturation": lambda args, kw: {"saturation_range": args[0]},
    "hue": lambda args, kw: {"hue_range": args[0]},
    "gaussian_noise": lambda args, kw: {"gaussian_noise_std": args[0]},
    "gaussian_blur": lambda args, kw: {"blur_sigma_range": args[0]},
    "clahe": lambda args, kw: {"clahe_clip_limit": args[0]},
    "random_erasing": lambda args, kw: {
        "erasing_probability": args[0],
        "erasing_scale": kw["scale"],
    },
    "elastic": lambda args, kw: {"elastic_alpha": args[0], "elastic_sigma": args[1]},
    "rand_augment": lambda args, kw: {
        "rand_augment_ops": args[0],
        "rand_augment_magnitude": args[1],
    },
    "trivial_augment": lambda args, kw: {"trivial_augment": True},
}


def skimgaug_producer(pool, spec):
    """skimgaug's transform on the pool's training batches, as ``fit`` applies it.

    The per-image transforms go through ``AugmentPipeline`` (the object a fit
    uses, which works in cache-sized chunks) with the one ``augment`` key;
    MixUp and CutMix call ``mix_batch``, as the fit's mixer does.
    """
    from skimgaug._augment._augment_keys import resolve_augment
    from skimgaug._augment._pipeline import AugmentPipeline
    from skimgaug._augment._warp import single_threaded_opencv

    module, function, args, kwargs = spec
    kernel = getattr(importlib.import_module(f"skimgaug._augment.{module}"), function)
    pipeline = None
    if function != "mix_batch":
        settings = resolve_augment(_AS_AUGMENT[function](args, kwargs))
        pipeline = AugmentPipeline(settings, "vectorized", kwargs.get("rescale"))

    def produce():
        rows, seed = pool.next()
        rng = np.random.RandomState(seed)
        batch = training_batch(pool.images[rows])
        with single_threaded_opencv():
            if pipeline is None:
                kernel(batch, pool.targets[rows], None, rng, *args, engine="vectorized")
            else:
                pipeline(batch, rng)

    return produce


def keras_layer_producer(pool, spec, size):
    """The Keras layer of ``spec`` in a ``tf.data`` pipeline, or why it is not measured."""
    import keras

    name, args, kwargs = spec
    cls = getattr(keras.layers, name, None)
    if cls is None:
        return f"not in Keras {keras.__version__}"
    if name == "ContrastLimitedAdaptiveHistogramEqualization" and size > KERAS_CLAHE_MAX_SIZE:
        return "skipped (memory)"
    kwargs = {key: value(size) if callable(value) else value for key, value in kwargs.items()}
    if name not in _NO_VALUE_RANGE:
        kwargs["value_range"] = (0, 255)
    if name != "ContrastLimitedAdaptiveHistogramEqualization":
        kwargs["seed"] = 0
    layer = cls(*args, **kwargs)
    if name == "GaussianNoise":  # its stddev is at most 1: noise on the images in 0-1
        layer = keras.Sequential(
            [keras.layers.Rescaling(1 / 255), layer, keras.layers.Rescaling(255)]
        )
    return keras_producer(pool, layer, labels=name in _WITH_LABELS)


def transform_rates(transform, size, dtype, seconds, rounds):
    """Images/s of one transform in skimgaug, albumentations and Keras ("" where none)."""
    pool = Pool(size, dtype)
    A = albumentations()
    producers = {"skimgaug": skimgaug_producer(pool, transform.ours), "albumentations": ""}
    if transform.theirs is not None:
        name, kwargs = transform.theirs
        producers["albumentations"] = (
            albumentations_producer(pool, getattr(A, name)(**kwargs, p=1)) if A else NOT_INSTALLED
        )
    producers["keras"] = (
        keras_layer_producer(pool, transform.keras, size) if transform.keras else ""
    )
    with one_thread():
        return rates(producers, seconds, rounds)


def report_transforms(settings, report):
    """Part 2: one row per transform, size and input type."""
    target = bench.TARGETS["kernels vs albumentations"]
    report("### 2. Each `augment` transform, images/s per thread (batch 32, RGB)")
    report()
    report(
        "skimgaug: the kernel with `engine='vectorized'` on the float32 training batch "
        "(conversion or copy included). albumentations: the transform itself (no `Compose`), "
        "`p=1`, image by image, float32 images in 0-1, each result written into a float32 "
        "batch. Keras: the layer in a `tf.data` map over batches, `value_range=(0, 255)`. A "
        "blank: no counterpart. Settings matched as the APIs allow: albumentations' contrast "
        "is `RandomBrightnessContrast(brightness_limit=0)`, its saturation and hue "
        "`ColorJitter` with the other factors at 0 (off); its blur kernel reaches 3.5 sigmas, "
        "ours 4, Keras' is 9 px at every sigma; Keras' saturation factor f multiplies by "
        "f / (1 - f), chosen for 0.7-1.3; Keras' noise is added to the images rescaled to "
        "0-1 (its `stddev` is at most 1), unclipped; Keras' erasing fills with Gaussian noise "
        "(its only random fill); elastic: skimgaug and albumentations "
        f"draw the same field (uniform, smoothed by a Gaussian of {ELASTIC[1]:g} px, times "
        f"alpha {ELASTIC[0]:g}), Keras ties its field to the image size and its `scale` is "
        "chosen for a 4 px smoothing (3.2 px at 64 px, its largest scale). Keras' CLAHE "
        f"layer is measured up to {KERAS_CLAHE_MAX_SIZE} px: at 224 px its one-hot "
        "histograms took 11.6 GB and 34 s to trace."
    )
    report()
    header = ["transform", "settings", "size", "input", "skimgaug", "albumentations", "Keras"]
    header += ["skimgaug / albumentations", "target", "skimgaug / Keras"]
    report.table(header)
    verdicts = []
    for transform in TRANSFORMS:
        for size in settings["sizes"]:
            for dtype in DTYPES:
                measured = transform_rates(
                    transform, size, dtype, settings["seconds"], settings["rounds"]
                )
                ours, theirs = measured["skimgaug"], measured["albumentations"]
                if isinstance(theirs, float):
                    verdicts.append((transform.name, target.met(ours / theirs)))
                report.row(
                    transform.name,
                    transform.settings,
                    f"{size}x{size}",
                    dtype,
                    shown(ours),
                    shown(theirs),
                    shown(measured["keras"]),
                    *ratio_cells(ours, theirs, target),
                    *ratio_cells(ours, measured["keras"]),
                )
    report()
    if verdicts:
        missed = [name for name in dict.fromkeys(name for name, met in verdicts if not met)]
        report(
            f"skimgaug at least as fast as albumentations in {sum(m for _, m in verdicts)} of "
            f"{len(verdicts)} rows"
            + (f"; not in some rows of: {', '.join(missed)}." if missed else ".")
        )
        report()


# ----------------------------------------------------------------------------
# 3. Epoch time with every transform on
# ----------------------------------------------------------------------------
def epoch_times(n_images, epochs, repeats):
    """Epoch times (s) without and with every transform, fits interleaved (child process).

    Returns ``{"available": False}`` while the estimator has no ``augment``.
    """
    from bench_fit_overhead import epoch_timer

    from skimgaug import AugmentedKerasClassifier
    from skimgaug.datasets import make_toy_images

    if "augment" not in AugmentedKerasClassifier().get_params():
        return {"available": False}
    X, y = make_toy_images(n_images, image_size=32, n_channels=3, n_classes=10, random_state=0)
    X = (np.clip(X, 0, 1) * 255).astype(np.float32)

    def epoch_time(augment):
        timer = epoch_timer()
        AugmentedKerasClassifier(
            datagen={"rescale": 1 / 255},
            augment=augment,
            callbacks=[timer],
            epochs=epochs,
            batch_size=32,
            verbose=0,
            random_state=0,
        ).fit(X, y)
        return float(np.median(timer.times[1:]))  # the first epoch traces the model

    plain, augmented = [], []
    for _ in range(repeats):
        plain.append(epoch_time(None))
        augmented.append(epoch_time(EVERY_TRANSFORM))
    return {"available": True, "plain": plain, "augmented": augmented}


def report_epoch_time(settings, report, environment):
    """Part 3: epoch time with every transform over without, in a fresh process."""
    target = bench.TARGETS["augment fit overhead"]
    epochs = 3
    report("### 3. Epoch time with every `augment` transform on (default CNN, 32x32x3)")
    report()
    try:
        times = bench.run_child(
            __file__, epoch_times, settings["images"], epochs, settings["repeats"], env=environment
        )
    except bench.ChildFailed as error:  # keep parts 1 and 2
        last = str(error).strip().splitlines()[-1]
        print(error, file=sys.stderr)
        report(f"TODO: measured after integration: the fits failed in this run (`{last}`).")
        report()
        return
    if not times["available"]:
        print("augment parameter not available yet")
        report(
            "TODO: measured after integration: `AugmentedKerasClassifier` had no `augment` "
            "parameter yet when this ran."
        )
        report()
        return
    report(
        f"{settings['images']} toy images (values 0-255), {epochs} epochs per fit, batch 32, "
        "`datagen={'rescale': 1/255}`, in a fresh process with the usual threads. Median "
        "epoch time (the first epoch, which traces the model, left out); fits without and "
        f"with augmentation alternate, {settings['repeats']} of each, and the medians are "
        f"compared. `augment={EVERY_TRANSFORM}`."
    )
    report()
    plain = float(np.median(times["plain"]))
    report.table(["augment", "epoch time (s)", "ratio to None", "target", "repeats (s)"])
    for name, key in (("None", "plain"), ("every transform on", "augmented")):
        seconds = float(np.median(times[key]))
        report.row(
            name,
            f"{seconds:.3f}",
            f"{seconds / plain:.2f}",
            target.verdict(seconds / plain) if key == "augmented" else "",
            ", ".join(f"{t:.3f}" for t in times[key]),
        )
    report()


def run(settings, report):
    """Measure and report the three parts."""
    environment = limit_threads()
    A = albumentations()
    report(
        f"albumentations {A.__version__ if A else NOT_INSTALLED}. One thread: OpenCV "
        "(`cv2.setNumThreads(1)`), NumPy's BLAS (threadpoolctl), TensorFlow (intra- and "
        "inter-op threads 1, `tf.data` private pool of 1). Each rate is the fastest of "
        f"{settings['rounds']} rounds of {settings['seconds'] / settings['rounds']:.2f} s, "
        "interleaved with the other producers of its row, after one untimed batch."
    )
    report()
    report_article(settings, report)
    report_transforms(settings, report)
    report_epoch_time(settings, report, environment)


if __name__ == "__main__":
    sys.exit(bench.main(__doc__, "augmentation per thread", run, FULL, QUICK, [epoch_times], HELPS))
