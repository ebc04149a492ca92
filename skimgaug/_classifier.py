"""``AugmentedKerasClassifier``: scikeras' classifier with augmentation in ``fit`` only."""

import contextlib
from dataclasses import dataclass

import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_array

from . import models
from ._compat import as_2d_proba, classifier_tags, refine_target_type, route_params
from ._datagen import DatagenConfig, misplaced_datagen_keys, resolve_datagen
from ._engine import (
    InferenceBatches,
    TrainingBatches,
    chunks,
    fit_statistics,
    inference_batch,
)
from ._inputs import (
    as_model_input,
    check_classes,
    check_image_shape,
    check_n_samples,
    check_same_sample_shape,
    column_to_1d,
)
from ._parallel import limit_tensorflow_threads
from ._paths import (
    COLOR_MODES,
    ImagePaths,
    check_color_mode,
    check_target_size,
    is_path_input,
)
from ._random import check_random_state, child_seeds, preserved_numpy_rng, resolve_seed
from ._split import check_validation_split, internal_validation_split
from ._transforms import check_engine, make_augmenter

_PREFIX = "datagen__"


@dataclass(frozen=True)
class _Settings:
    """The estimator's own parameters, validated once per (re)initialization."""

    datagen: DatagenConfig
    image_shape: tuple
    validation_split: float
    engine: str
    target_size: tuple
    color_mode: str


class AugmentedKerasClassifier(KerasClassifier):
    """A scikeras ``KerasClassifier`` that augments training batches only.

    ``ImageDataGenerator`` settings are given as parameters and split by role:
    random augmentation (rotation, shifts, shear, zoom, flips, brightness,
    channel shift) is applied to training batches inside ``fit`` only;
    standardization (rescale, ``preprocessing_function``, sample-wise and
    feature-wise centering and scaling, ZCA) is applied to every image the
    model sees, with feature-wise statistics learned from the training images
    of this ``fit`` call. Because scikit-learn splits before calling ``fit``,
    ``cross_val_score``, ``GridSearchCV`` and ``Pipeline`` never leak
    augmentation or statistics into validation folds.

    Parameters
    ----------
    model : None, callable or keras.Model, default=None
        As in scikeras. ``None`` builds :func:`skimgaug.models.default_model`,
        a small CNN (or an MLP for feature rows) sized from the data, with a
        loss that fits the labels; tune it with ``model__filters=...``,
        ``model__dense_units=...``, ``model__dropout=...``.
    datagen : None or dict, default=None
        ``ImageDataGenerator`` keyword arguments, for example
        ``{"rotation_range": 15, "rescale": 1 / 255}``.
        ``validation_split`` and ``data_format="channels_first"`` are refused.
    image_shape : None or tuple of int, default=None
        ``(height, width, channels)`` (or ``(height, width)`` for one channel)
        to reshape 2-D rows of ``X``, such as ``load_digits().data``, into
        images.
    engine : {"vectorized", "imagedatagenerator"}, default="vectorized"
        How random transforms are applied to training batches. Both draw the
        same parameters from ``ImageDataGenerator``'s distributions.
        ``"imagedatagenerator"`` applies them image by image with
        ``ImageDataGenerator.apply_transform`` (the reference semantics);
        ``"vectorized"`` builds the batch's transform matrices at once and
        warps with OpenCV using SciPy's border rules (8 to 14 times faster;
        equal to the reference up to float32 round-off). With an
        ``interpolation_order`` other than 0 or 1, ``"vectorized"`` falls back
        to the reference with a warning.
    target_size : tuple (height, width), default=(256, 256)
        When ``X`` is a sequence of image file paths: the size images are
        resized to. At predict time files are decoded to the fitted size.
    color_mode : {"grayscale", "rgb", "rgba"}, default="rgb"
        When ``X`` is a sequence of image file paths: the channels images are
        converted to.
    validation_split : float, default=0.0
        Fraction of the training data held out, stratified and seeded, before
        any augmentation; it goes through the standardization path only, so
        ``val_*`` metrics and ``EarlyStopping`` see clean images.
    random_state : None, int or numpy.random.RandomState, default=None
        Seeds the model (as in scikeras), the internal validation split, the
        shuffling and the random transforms. The global NumPy RNG is left as
        it was, with or without a seed.
    **kwargs
        Every other scikeras parameter (``loss``, ``optimizer``, ``epochs``,
        ``batch_size``, ``callbacks``, ``class_weight``, ``verbose``,
        ``warm_start``, routed ``model__*``, ``optimizer__*``, ...) works as
        documented at https://adriangb.com/scikeras/stable/generated/scikeras.wrappers.KerasClassifier.html.
        Any single ``ImageDataGenerator`` keyword can also be given as
        ``datagen__<name>``; it overrides the same key in ``datagen`` and can
        be grid-searched.

    Attributes
    ----------
    standardizer_ : ImageDataGenerator
        Standardization settings with the statistics learned in ``fit``; the
        inference path (internal validation, ``predict``, ``score``) uses
        only this.
    augmentation_ : dict
        The validated random augmentation settings used on training batches.
    model_, history_, classes_, n_classes_, n_features_in_, X_shape_ : see scikeras
        ``n_features_in_`` counts the values of one sample (``h * w * c``
        for images).

    Notes
    -----
    Statistics belong to the model: they are learned when the Keras model is
    built (``fit``, or the first ``partial_fit``), and kept with it by
    ``warm_start=True`` and later ``partial_fit`` calls.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import cross_val_score
    >>> from skimgaug import AugmentedKerasClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = AugmentedKerasClassifier(
    ...     image_shape=(8, 8, 1),
    ...     datagen={"rotation_range": 10, "rescale": 1 / 16},
    ...     epochs=2, verbose=0, random_state=0,
    ... )
    >>> scores = cross_val_score(clf, X[:200], y[:200], cv=2)
    >>> scores.shape
    (2,)
    """

    _routing_prefixes = KerasClassifier._routing_prefixes | {"datagen"}

    def __init__(
        self,
        model=None,
        *,
        datagen=None,
        image_shape=None,
        engine="vectorized",
        target_size=(256, 256),
        color_mode="rgb",
        build_fn=None,
        warm_start=False,
        random_state=None,
        optimizer="rmsprop",
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
        class_weight=None,
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
            class_weight=class_weight,
            **kwargs,
        )
        self.datagen = datagen
        self.image_shape = image_shape
        self.engine = engine
        self.target_size = target_size
        self.color_mode = color_mode

    # ------------------------------------------------------------------
    # scikit-learn citizenship
    # ------------------------------------------------------------------
    def __sklearn_tags__(self):
        return classifier_tags(super().__sklearn_tags__())

    # ------------------------------------------------------------------
    # Settings: validated before any data is touched
    # ------------------------------------------------------------------
    def _check_settings(self):
        owner = type(self).__name__
        params = self.get_params()
        misplaced = misplaced_datagen_keys(getattr(self, "_user_params", ()))
        if misplaced:
            hints = ", ".join(f"{k!r} (did you mean '{_PREFIX}{k}'?)" for k in misplaced)
            raise ValueError(
                f"{owner} got ImageDataGenerator options as its own parameters: "
                f"{hints}. Pass them as datagen__<name>=... or in datagen={{...}}."
            )
        routed = {k[len(_PREFIX) :]: v for k, v in params.items() if k.startswith(_PREFIX)}
        check_random_state(self.random_state, owner)
        return _Settings(
            datagen=resolve_datagen(self.datagen, routed, estimator_params=params, owner=owner),
            image_shape=check_image_shape(self.image_shape, owner),
            validation_split=check_validation_split(self.validation_split, owner),
            engine=check_engine(self.engine, owner),
            target_size=check_target_size(self.target_size, owner),
            color_mode=check_color_mode(self.color_mode, owner),
        )

    def _type_of_target(self, y):
        return refine_target_type(super()._type_of_target(y), y)

    def _check_model_param(self):
        if self.model is None and self.build_fn is None:
            return models.default_model
        return super()._check_model_param()

    # ------------------------------------------------------------------
    # Input checks, shared by fit and predict (scikeras hook)
    # ------------------------------------------------------------------
    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        owner = type(self).__name__
        if y is not None:
            y = column_to_1d(y)
        if X is not None and is_path_input(X):
            return self._validate_paths(X, y, reset, y_numeric)
        if X is not None:
            # fit: the image_shape parameter; predict: rows take the fitted shape
            # and images are compared with it below.
            image_shape = self._settings.image_shape
            if not reset:
                X = np.asarray(X)
                image_shape = self._fitted_image_shape() if X.ndim == 2 else None
            X = as_model_input(
                X,
                image_shape,
                requires_images=reset and not self._settings.datagen.is_empty,
                owner=owner,
            )
            if y is not None:
                check_n_samples(X, y)
        if reset:
            X, y = super()._validate_data(X, y, reset=True, y_numeric=y_numeric)
            if X is not None:
                self.n_features_in_ = int(np.prod(X.shape[1:]))
            if y is not None:
                check_classes(y)
            return X, y
        # Inference: any numeric dtype will do (batches are cast to float), but
        # samples must have the shape seen in fit.
        _, y = super()._validate_data(None, y, y_numeric=y_numeric)
        if X is not None:
            X = check_array(X, allow_nd=True, dtype=None)
            check_same_sample_shape(X, self.X_shape_[1:], owner)
        return X, y

    def _validate_paths(self, X, y, reset, y_numeric):
        """Image files as X: checked up front, decoded batch by batch later."""
        if reset:
            paths = ImagePaths(X, self._settings.target_size, self._settings.color_mode)
        else:  # decode to the shape the model was fitted on
            height, width, channels = self.X_shape_[1:]
            mode = next((m for m, (_, c) in COLOR_MODES.items() if c == channels), None)
            if mode is None:
                raise ValueError(
                    f"This {type(self).__name__} was fitted on images with {channels} "
                    "channels; image files decode to 1 (grayscale), 3 (rgb) or 4 (rgba)."
                )
            paths = ImagePaths(X, (height, width), mode)
        if y is not None:
            check_n_samples(paths, y)
        paths.check_files()
        _, y = super()._validate_data(None, y, reset=reset, y_numeric=y_numeric)
        if reset:
            self.X_shape_ = paths.shape
            self.X_dtype_ = np.dtype(np.float32)
            self.n_features_in_ = int(np.prod(paths.shape[1:]))
            if y is not None:
                check_classes(y)
        return paths, y

    def _fitted_image_shape(self):
        shape = getattr(self, "X_shape_", None)
        return tuple(shape[1:]) if shape is not None and len(shape) == 4 else None

    # ------------------------------------------------------------------
    # Training path
    # ------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build a new model and train it on augmented batches of ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n, h, w, c), (n, h, w) or (n, features)
            Training images (or rows, reshaped with ``image_shape``).
        y : array-like of shape (n,) or (n, n_classes)
            Labels: integers or strings, binary or multiclass, or one-hot.
        sample_weight : array-like of shape (n,), default=None
            Per-sample weights, multiplied by ``class_weight`` weights.
        **kwargs
            Passed to ``keras.Model.fit`` as in scikeras; ``validation_data``
            is standardized like any inference input.

        Returns
        -------
        self
        """
        limit_tensorflow_threads()
        with preserved_numpy_rng():
            super().fit(X, y, sample_weight=_owned_copy(sample_weight), **kwargs)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train the current model for one epoch (statistics are kept).

        See :meth:`fit` for the parameters; ``classes`` as in scikeras.
        """
        limit_tensorflow_threads()
        with preserved_numpy_rng():
            super().partial_fit(
                X, y, classes=classes, sample_weight=_owned_copy(sample_weight), **kwargs
            )
        return self

    def _initialize(self, X, y=None):
        # (Re)building the model: validate settings first, then data.
        self._settings = self._check_settings()
        X, y = super()._initialize(X, y)
        self.augmentation_ = dict(self._settings.datagen.augmentation)
        self.standardizer_ = self._settings.datagen.standardizer()
        return X, y

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        settings = self._settings
        split_seed, batch_seed = child_seeds(resolve_seed(self.random_state), 2)
        fit_params = route_params(
            self.get_params(),
            destination="fit",
            pass_filter={"batch_size", "shuffle", "validation_batch_size"},
        )
        batch_size = fit_params.get("batch_size") or 32
        if batch_size == -1:
            batch_size = len(X)

        given_validation = kwargs.pop("validation_data", None)
        if given_validation is not None and settings.validation_split:
            raise ValueError("Pass either validation_split or validation_data to fit, not both.")
        train = valid = None  # None: all rows train
        if settings.validation_split:
            train, valid = internal_validation_split(y, settings.validation_split, split_seed)
        if self.standardizer_.mean is None:  # a new model: learn this fit's statistics
            fit_statistics(self.standardizer_, X, train)
        validation_batch_size = fit_params.get("validation_batch_size") or batch_size
        if validation_batch_size == -1:
            validation_batch_size = len(X)
        validation_data = None
        if valid is not None:
            validation_data = InferenceBatches(
                X, y, sample_weight, valid, self.standardizer_, int(validation_batch_size)
            )
        elif given_validation is not None:
            validation_data = self._inference_validation_data(
                given_validation, int(validation_batch_size)
            )

        augmenter = None
        if settings.datagen.augments:
            augmenter = make_augmenter(settings.engine, settings.datagen.augmenter())
        batches = TrainingBatches(
            X,
            y,
            sample_weight,
            indices=train,
            augmenter=augmenter,
            standardizer=self.standardizer_,
            batch_size=int(batch_size),
            shuffle=fit_params.get("shuffle", True),
            seed=batch_seed,
            first_epoch=initial_epoch,
        )
        running = augmenter.running() if augmenter is not None else contextlib.nullcontext()
        with running:
            super()._fit_keras_model(
                batches,
                None,
                sample_weight=None,
                warm_start=warm_start,
                epochs=epochs,
                initial_epoch=initial_epoch,
                batch_size=None,
                validation_split=0.0,
                shuffle=False,
                validation_data=validation_data,
                **kwargs,
            )

    def _inference_validation_data(self, validation_data, batch_size):
        """User-given ``validation_data=(X, y[, w])``, through the inference path."""
        X_val, y_val, *rest = validation_data
        X_val, y_val = self._validate_data(X_val, y_val)
        y_val = self.target_encoder_.transform(y_val)
        weights = np.asarray(rest[0], dtype=np.float64) if rest else None
        return InferenceBatches(
            X_val, y_val, weights, np.arange(len(X_val)), self.standardizer_, batch_size
        )

    # ------------------------------------------------------------------
    # Inference path
    # ------------------------------------------------------------------
    def _predict_raw(self, X, **kwargs):
        if not self.initialized_:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' "
                "with appropriate arguments before using this estimator."
            )
        if self._settings.datagen.needs_statistics and self.standardizer_.mean is None:
            raise NotFittedError(
                "Feature-wise standardization statistics are learned in fit; "
                "call fit (not only initialize) before predicting."
            )
        with preserved_numpy_rng():
            X, _ = self._validate_data(X)
            # Chunks of bounded memory: files are decoded, images copied and
            # standardized one chunk at a time.
            outputs = [
                super(AugmentedKerasClassifier, self)._predict_raw(
                    inference_batch(self.standardizer_, X, rows), **kwargs
                )
                for rows in chunks(X)
            ]
            return np.concatenate(outputs)

    def predict_proba(self, X, **kwargs):
        """Class probabilities for ``X``, standardized, never augmented.

        Parameters
        ----------
        X : array-like
            Images shaped as in ``fit``.
        **kwargs
            Passed to ``keras.Model.predict`` as in scikeras.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        proba = super().predict_proba(X, **kwargs)
        return as_2d_proba(proba, len(X))


def _owned_copy(sample_weight):
    """A float copy: scikeras multiplies ``class_weight`` into it in place."""
    if sample_weight is None:
        return None
    return np.array(sample_weight, dtype=np.float64)
