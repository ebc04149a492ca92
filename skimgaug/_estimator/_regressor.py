"""``AugmentedKerasRegressor``: scikeras' regressor with augmentation in ``fit`` only."""

from .._compat import import_tensorflow, regressor_tags

import_tensorflow()  # first: the caller's Python random stays as it was  # noqa: I001

import numpy as np  # noqa: E402
from scikeras.utils.transformers import RegressorTargetEncoder  # noqa: E402
from scikeras.wrappers import KerasRegressor  # noqa: E402

from ..exceptions import InvalidParameterError  # noqa: E402
from ._base import AugmentedKerasBase  # noqa: E402

#: The classifier's parameters a regressor has no use for, and why.
CLASSIFIER_ONLY = {
    "balance": "there are no classes to show equally often",
    "class_weight": "there are no classes to weight (use sample_weight)",
}


class StandardizedTarget(RegressorTargetEncoder):
    """scikeras' regressor target encoder that also standardizes each output.

    Learned in ``fit`` (mean and standard deviation of each output over the
    training targets; an output that does not vary keeps a scale of 1) and
    undone by ``inverse_transform``, so predictions come back in the units of
    ``y``.
    """

    def fit(self, y):
        super().fit(y)
        values = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        self.mean_ = values.mean(axis=0)
        scale = values.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        return self

    def transform(self, y):
        y = super().transform(y)
        values = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        return ((values - self.mean_) / self.scale_).reshape(np.shape(y)).astype(np.float32)

    def inverse_transform(self, y):
        values = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        return super().inverse_transform(values * self.scale_ + self.mean_)


class AugmentedKerasRegressor(AugmentedKerasBase, KerasRegressor):
    """A scikeras ``KerasRegressor`` that augments training batches only.

    The same data, augmentation, standardization, cache, groups, test-time
    augmentation and pretrained backbones as
    :class:`~skimgaug.AugmentedKerasClassifier`, for targets that are numbers:
    bone age, an ejection fraction, a count, a severity score, or several of
    them (a 2-D ``y``). It is a scikit-learn regressor: ``is_regressor`` is
    true, so ``cross_val_score(reg, X, y, cv=5)`` splits with a plain
    ``KFold``, and :meth:`score` is R².

    Parameters
    ----------
    model : None, callable or keras.Model, default=None
        As in scikeras. ``None`` builds :func:`skimgaug.models.default_model`
        with a linear output layer (one unit per output) and the mean squared
        error; ``loss="huber"`` (or any Keras loss) changes the loss.
    datagen, augment, image_shape, engine, target_size, color_mode, window, tta, cache : see above
        As in :class:`~skimgaug.AugmentedKerasClassifier` (MixUp and CutMix mix the
        targets' values in the same proportion as the images). With ``tta`` > 0,
        :meth:`predict` averages the values predicted for the clean image and
        ``tta`` augmented copies.
    standardize_target : bool, default=False
        Train on each output standardized (mean 0, standard deviation 1,
        learned from the training targets of this ``fit``) and return
        predictions in the units of ``y``. Helps when the targets are large
        (bone age in months) or on different scales (several outputs); off
        by default, so that a given ``loss`` sees the targets as they are.
    build_fn, warm_start, random_state, optimizer, loss, metrics : see scikeras
        As in scikeras' ``KerasRegressor``.
    batch_size, validation_batch_size, verbose, callbacks : see scikeras
        As in scikeras' ``KerasRegressor``.
    validation_split : float, default=0.0
        The share of the training data held out for internal validation, at
        random (whole groups with ``groups``), without stratification.
    shuffle, run_eagerly, epochs : see scikeras
        As in scikeras' ``KerasRegressor``.
    **kwargs
        Routed parameters (``model__``, ``fit__``, ``optimizer__``, ...), as
        in scikeras. The classifier's ``balance`` and ``class_weight`` are
        refused when fitting.

    Attributes
    ----------
    standardizer_ : ImageDataGenerator
        Standardization settings with the statistics learned in ``fit``.
    augmentation_ : dict
        The validated random augmentation settings used on training batches.
    validation_indices_ : ndarray of int or None
        The rows of the last ``fit``'s ``X`` held out by ``validation_split``.
    model_, history_, n_outputs_, n_features_in_, X_shape_, target_encoder_ : see scikeras

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import cross_val_score
    >>> from skimgaug import AugmentedKerasRegressor
    >>> X, y = load_digits(return_X_y=True)
    >>> reg = AugmentedKerasRegressor(
    ...     image_shape=(8, 8, 1),
    ...     datagen={"rotation_range": 10, "rescale": 1 / 16},
    ...     standardize_target=True, epochs=5, verbose=0, random_state=0,
    ... )
    >>> scores = cross_val_score(reg, X[:300], y[:300].astype(float), cv=2)  # R² per fold
    >>> bool(scores.min() > 0)  # better than predicting the mean
    True
    """

    _routing_prefixes = KerasRegressor._routing_prefixes | AugmentedKerasBase._routing_prefixes

    def __init__(
        self,
        model=None,
        *,
        datagen=None,
        augment=None,
        image_shape=None,
        engine="vectorized",
        target_size=None,
        color_mode="rgb",
        window=None,
        tta=0,
        cache="auto",
        standardize_target=False,
        build_fn=None,
        warm_start=False,
        random_state=None,
        optimizer="adam",
        loss=None,
        metrics=None,
        batch_size=None,
        validation_batch_size=None,
        verbose=1,
        callbacks=None,
        validation_split=0.0,
        shuffle=True,
        run_eagerly=False,
        epochs=1,
        **kwargs,
    ):
        super().__init__(
            model=model,
            build_fn=build_fn,
            warm_start=warm_start,
            random_state=random_state,
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            batch_size=batch_size,
            validation_batch_size=validation_batch_size,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            shuffle=shuffle,
            run_eagerly=run_eagerly,
            epochs=epochs,
            **kwargs,
        )
        self.datagen = datagen
        self.augment = augment
        self.image_shape = image_shape
        self.engine = engine
        self.target_size = target_size
        self.color_mode = color_mode
        self.window = window
        self.tta = tta
        self.cache = cache
        self.standardize_target = standardize_target

    # ------------------------------------------------------------------
    # scikit-learn citizenship
    # ------------------------------------------------------------------
    def __sklearn_tags__(self):
        return regressor_tags(super().__sklearn_tags__())

    # ------------------------------------------------------------------
    # What is a regressor's own: its parameters, targets and outputs
    # ------------------------------------------------------------------
    def check_settings(self):
        params = self.get_params(deep=False)
        refused = [name for name in CLASSIFIER_ONLY if params.get(name) is not None]
        if refused:
            reasons = "; ".join(f"{name}: {CLASSIFIER_ONLY[name]}" for name in refused)
            raise InvalidParameterError(
                f"AugmentedKerasRegressor does not take {', '.join(refused)}, a parameter of "
                f"AugmentedKerasClassifier ({reasons})."
            )
        return super().check_settings()

    def fit(self, X, y, sample_weight=None, groups=None, **kwargs):
        """Build a new model and train it on augmented batches of ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n, h, w, c), (n, h, w) or (n, features)
            Training images (or rows, reshaped with ``image_shape``), or
            image file paths.
        y : array-like of shape (n,) or (n, n_outputs)
            The values to predict: numbers, several per sample for a 2-D ``y``.
        sample_weight : array-like of shape (n,), default=None
            Per-sample weights of the loss.
        groups : array-like of shape (n,), default=None
            Group of each sample (a patient, say): the internal validation
            split then holds out whole groups.
        **kwargs
            Passed to ``keras.Model.fit`` as in scikeras.

        Returns
        -------
        self
        """
        _check_y_given(y)
        return super().fit(X, y, sample_weight=sample_weight, groups=groups, **kwargs)

    def partial_fit(self, X, y, sample_weight=None, **kwargs):
        """Train the current model for one epoch (statistics are kept).

        The first call builds the model and learns the standardization
        statistics, as :meth:`fit` does.

        Parameters
        ----------
        X : array-like
            Training images, as in :meth:`fit`.
        y : array-like of shape (n,) or (n, n_outputs)
            Values, as in :meth:`fit`.
        sample_weight : array-like of shape (n,), default=None
            Per-sample weights, as in :meth:`fit`.
        **kwargs
            Passed to ``keras.Model.fit``, as in :meth:`fit`.

        Returns
        -------
        self
        """
        _check_y_given(y)
        sample_weight = self._checked_fit_call(y, sample_weight, kwargs)
        if self.initialized_:
            self._update_settings_for_continued_fit()
        with self._process_state_preserved():
            super().partial_fit(X, y, sample_weight=sample_weight, **kwargs)
        return self

    @property
    def target_encoder(self):
        """scikeras' target encoder, standardizing with ``standardize_target=True``."""
        return StandardizedTarget() if self.standardize_target else RegressorTargetEncoder()

    def _type_of_target(self, y):
        # Integer targets (a count, a digit's value) are values here, not classes.
        y = np.asarray(y)
        return "continuous" if y.ndim == 1 or y.shape[1] == 1 else "continuous-multioutput"

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        if y is not None:
            y = check_regression_target(y)
        return super()._validate_data(X, y, reset=reset, y_numeric=y_numeric)

    def predict(self, X, **kwargs):
        """Predicted values for ``X``, from standardized, never augmented images.

        With ``tta`` > 0, the mean of the values predicted for the clean
        image and ``tta`` augmented copies.

        Parameters
        ----------
        X : array-like
            Images shaped as in ``fit``, or image file paths when it was
            fitted on files.
        **kwargs
            Passed to ``keras.Model.predict`` as in scikeras.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            In the units of ``y`` (``standardize_target`` is undone).
        """
        return super().predict(X, **kwargs)

    def score(self, X, y, sample_weight=None):
        """R² of :meth:`predict` on ``(X, y)`` (averaged over outputs for a 2-D ``y``).

        Parameters
        ----------
        X : array-like
            Images shaped as in ``fit``, or image file paths.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
            :func:`sklearn.metrics.r2_score` of the predictions.
        """
        return super().score(X, y, sample_weight=sample_weight)


def _check_y_given(y):
    if y is None:
        raise ValueError(
            "AugmentedKerasRegressor requires y to be passed, but the target y is None."
        )


def check_regression_target(y):
    """``y`` as float64 numbers, or a ``ValueError`` naming the first value that is not one."""
    values = np.asarray(y)
    if values.dtype.kind not in "biuf":
        flat = values.reshape(-1)
        for index, value in enumerate(flat):
            try:
                float(value)
            except (TypeError, ValueError):
                row = index // max(1, flat.size // max(1, len(values)))
                raise ValueError(
                    f"AugmentedKerasRegressor needs numbers in y (the values to predict); "
                    f"got {value!r} in row {row}. For classes, use AugmentedKerasClassifier."
                ) from None
        values = values.astype(np.float64)
    if values.ndim > 2:
        raise ValueError(
            f"y must be 1-D (one value per sample) or 2-D (several outputs); got shape "
            f"{values.shape}."
        )
    finite = np.isfinite(values.astype(np.float64))
    if not finite.all():
        row = int(np.argwhere(~finite)[0][0])
        raise ValueError(
            f"y holds a value that is not finite (NaN or infinity) in row {row}: "
            "remove or impute it before fitting."
        )
    return values
