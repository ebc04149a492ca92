"""Augmentation throughput: images/s of each way of producing augmented batches.

For the seed article's settings on random float32 RGB images (256 of them,
batch 32), at each image size: ``ImageDataGenerator.flow``, skimgaug's two
engines (``imagedatagenerator``: the reference, one image at a time;
``vectorized``: the default), both including the batch copy and
standardization, and the equivalent Keras preprocessing layers in a
``tf.function``. Target: the vectorized engine >= 5x ``ImageDataGenerator.flow``
at every size.

Run from the repository root::

    python benchmarks/bench_throughput.py            # about 1.5 min on 2 cores
    python benchmarks/bench_throughput.py --quick    # smoke test
"""

import sys
import time

import _bench as bench

FULL = {"sizes": (32, 64, 128, 224), "seconds": 4.0}
QUICK = {"sizes": (32, 64), "seconds": 1.0}
HELPS = {"sizes": "image sizes", "seconds": "seconds each producer runs per size"}


def rate(produce, images_per_call, seconds):
    """Images per second of ``produce()`` over ``seconds``, after one warm-up call."""
    produce()
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < seconds:
        produce()
        calls += 1
    return calls * images_per_call / (time.perf_counter() - start)


def cycling(batches):
    """A function returning the batches of a Keras dataset one after the other, forever."""
    counter = iter(range(10**12))
    return lambda: batches[next(counter) % len(batches)]


def throughput(size, seconds):
    """Images/s of every producer at one image size."""
    import keras
    import tensorflow as tf

    from skimgaug._compat import image_data_generator_class

    X, y = bench.random_images(256, size)
    flow = image_data_generator_class()(**bench.ARTICLE).flow(X, y, batch_size=32, seed=0)
    rates = {"ImageDataGenerator.flow": rate(cycling(flow), 32, seconds)}
    for engine in ("imagedatagenerator", "vectorized"):
        rates[engine] = rate(cycling(bench.article_batches(X, y, engine)), 32, seconds)
    layers = keras.Sequential(
        [
            keras.layers.RandomRotation(20 / 360, fill_mode="nearest"),
            keras.layers.RandomTranslation(0.2, 0.2, fill_mode="nearest"),
            keras.layers.RandomShear(0.2, 0.2, fill_mode="nearest"),
            keras.layers.RandomZoom(0.2, fill_mode="nearest"),
            keras.layers.RandomFlip("horizontal"),
        ]
    )
    apply_layers = tf.function(lambda batch: layers(batch, training=True))
    batch = tf.constant(X[:32])
    rates["keras layers"] = rate(lambda: apply_layers(batch).numpy(), 32, seconds)
    return rates


def run(settings, report):
    """Measure and report every size."""
    target = bench.TARGETS["throughput"]
    report("### Augmentation throughput (article settings, float32 RGB, batch 32)")
    report()
    report("Images/s through each producer, and the ratio to `ImageDataGenerator.flow`.")
    report("The skimgaug engines include the batch copy and standardization.")
    report()
    report.table(
        [
            "size",
            "ImageDataGenerator.flow",
            "engine imagedatagenerator",
            "engine vectorized",
            "Keras layers",
            "vectorized / flow",
            "target",
        ]
    )
    for size in settings["sizes"]:
        rates = throughput(size, settings["seconds"])
        ratio = rates["vectorized"] / rates["ImageDataGenerator.flow"]
        report.row(
            f"{size}x{size}",
            f"{rates['ImageDataGenerator.flow']:,.0f}",
            f"{rates['imagedatagenerator']:,.0f}",
            f"{rates['vectorized']:,.0f}",
            f"{rates['keras layers']:,.0f}",
            f"**{ratio:.1f}x**",
            target.verdict(ratio),
        )
    report()


if __name__ == "__main__":
    sys.exit(bench.main(__doc__, "augmentation throughput", run, FULL, QUICK, helps=HELPS))
