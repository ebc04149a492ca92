"""Percentile bootstrap intervals of many metrics at once, resampling clusters.

When samples come in clusters (several images of one patient), the clusters
are resampled, not the samples: images of one patient are correlated, and
resampling them one by one would give intervals that are too narrow (a
cluster bootstrap; Field & Welsh 2007). Without clusters each sample is its
own cluster.
"""

import numpy as np

#: Resamples drawn per batch: bounds the memory of the weight matrices.
_BATCH = 200


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
        size = min(_BATCH, n_bootstraps - done)
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
