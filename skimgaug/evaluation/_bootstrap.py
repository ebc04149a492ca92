"""Percentile bootstrap intervals of many metrics at once, resampling clusters.

When samples come in clusters (several images of one patient), the clusters
are resampled, not the samples: images of one patient are correlated, and
resampling them one by one would give intervals that are too narrow (a
cluster bootstrap; Field & Welsh 2007). Without clusters each sample is its
own cluster.
"""

import numpy as np

#: Most resamples drawn per batch.
_BATCH = 200
#: Bytes of one batch's weight matrix (int32) at most. Below glibc's default mmap
#: threshold (128 KiB), the metrics' temporary arrays come from the heap: once
#: Keras has trained on a PyDataset in the process, glibc serves larger blocks
#: with fresh pages every time, which made the resamples several times slower.
_BATCH_BYTES = 100_000


def batch_rows(n):
    """Resamples per batch for ``n`` samples (4 to 200)."""
    return int(np.clip(_BATCH_BYTES // (4 * max(n, 1)), 4, _BATCH))


def cluster_weights(clusters, n_bootstraps, rng):
    """Batches of sample weights: ``(weights, cluster_counts)`` of shape (b, n) and (b, c).

    Parameters
    ----------
    clusters : ndarray of int, shape (n,)
        The cluster index (0 to c - 1) of each sample.
    n_bootstraps : int
    rng : numpy.random.Generator

    Yields
    ------
    weights : ndarray of int32, shape (b, n)
        How many times each sample's cluster was drawn.
    counts : ndarray of int32, shape (b, c)
        How many times each cluster was drawn.
    """
    n_clusters = int(clusters.max()) + 1 if len(clusters) else 0
    done = 0
    while done < n_bootstraps:
        size = min(batch_rows(len(clusters)), n_bootstraps - done)
        draws = rng.integers(0, n_clusters, size=(size, n_clusters))
        flat = (draws + n_clusters * np.arange(size)[:, None]).ravel()
        counts = np.bincount(flat, minlength=size * n_clusters).reshape(size, n_clusters)
        counts = counts.astype(np.int32)
        # C order: the metrics' cumulative sums run along the rows
        yield np.ascontiguousarray(counts[:, clusters]), counts
        done += size


def percentile_interval(values, confidence):
    """``(low, high, defined)``: the percentile interval of one metric's bootstrap values.

    NaN values (the metric undefined in a resample) are left out; ``defined``
    says how many remained.
    """
    finite = values[np.isfinite(values)]
    if not len(finite):
        return None, None, 0
    alpha = (1 - confidence) / 2
    low, high = np.percentile(finite, [100 * alpha, 100 * (1 - alpha)])
    return float(low), float(high), int(len(finite))


def resampling_record(random_state, n_bootstraps, clusters, targets):
    """What drew an evaluation's resamples: equal for evaluations that pair up (or None)."""
    if random_state is None or not n_bootstraps:
        return None
    return (repr(random_state), n_bootstraps, clusters.tobytes(), targets.tobytes())


def evaluation_settings(n_bootstraps, confidence, grouped, target, **more):
    """The ``settings`` of an evaluation: resamples, confidence, target, how intervals are made."""
    return {
        "n_bootstraps": n_bootstraps,
        "confidence": confidence,
        **more,
        "target": target,
        "interval": (
            "percentile bootstrap, resampling "
            + ("patients (a cluster bootstrap)" if grouped else "images")
        ),
    }


def metric_row(level, metric, estimate, draws, confidence, n, **extra):
    """One row of an evaluation's ``metrics``: the estimate and the interval of ``draws``.

    ``draws`` are the metric's bootstrap values (None without bootstraps); ``extra``
    keys (a multi-label row's ``label``) follow ``metric``.
    """
    low = high = None
    defined = 0
    if draws is not None:
        low, high, defined = percentile_interval(draws, confidence)
    estimate = float(estimate)
    return {
        "level": level,
        "metric": metric,
        **extra,
        "estimate": None if np.isnan(estimate) else estimate,
        "low": low,
        "high": high,
        "n": n,
        "bootstraps_defined": defined,
    }
