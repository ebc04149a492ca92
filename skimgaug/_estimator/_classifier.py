"""``AugmentedKerasClassifier``: scikeras' classifier with augmentation in ``fit`` only."""

import contextlib
from collections import defaultdict

import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_array

from .. import models
from .._augment._batches import (
    InferenceBatches,
    batch_errors_raised,
    padded_to_batches,
)
from .._augment._keys import (
    changed_model_settings,
)
from .._augment._predict import predict_in_chunks
from .._augment._transforms import make_augmenter
from .._compat import (
    as_2d_proba,
    classifier_tags,
    preserved_op_determinism,
    private_keras_seeds,
    quiet_cross_model_retracing,
    refine_target_type,
    route_params,
)
from .._data._inputs import (
    as_model_input,
    check_classes,
    check_label_values,
    check_n_samples,
    check_same_sample_shape,
    check_same_target_shape,
    column_to_1d,
)
from .._data._multi import check_single_input, n_samples, take
from .._data._paths import (
    COLOR_MODES,
    ImagePaths,
    is_path_input,
    size_of_images,
)
from .._parallel import limit_tensorflow_threads
from .._random import (
    child_seeds,
    preserved_global_rngs,
    resolve_seed,
)
from .._validation import BATCH_SIZE, check_built_model, check_param, check_sample_weight
from ..models._default import default_learning_rate
from ..models._heads import loss_for
from ._diagnostics import warn_if_chance_level
from ._parameters import (
    INFERENCE_PARAMETERS,
    validate_fit_arguments,
    validate_parameter,
    validate_parameters,
)
from ._settings import (
    FittedState,
    check_balanced_weights,
    check_settings,
    is_fitted_name,
    rows_per_epoch,
)
from ._split import _strata
from ._training import check_inference_mode, plan_training, training_batches, training_part

_PREFIX = "datagen__"


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
    target_size : None or tuple (height, width), default=None
        When ``X`` is a sequence of image file paths: the size images are
        resized to. ``None`` keeps the images' own size; files of mixed
        sizes are resized to the most common one, with a
        :class:`MixedImageSizesWarning` saying which. At predict time files
        are decoded to the fitted size.
    color_mode : {"grayscale", "rgb", "rgba"}, default="rgb"
        When ``X`` is a sequence of image file paths: the channels images are
        converted to.
    tta : int, default=0
        Test-time augmentation: with ``tta=N > 0``, ``predict_proba`` (and
        so ``predict`` and ``score``) averages the model's output for the
        clean image and for ``N`` copies randomly transformed with the
        training augmentation settings (then standardized, as in training),
        drawn reproducibly from ``random_state``. Part of the model's
        inference rule, so it applies in ``cross_val_score`` and can be
        grid-searched. Without random augmentation settings it changes
        nothing. Internal validation during ``fit`` stays clean.
    balance : None or "oversample", default=None
        ``"oversample"``: every epoch shows every class as often as the
        largest one: all training rows once, plus rows of the smaller classes
        drawn again (with replacement, anew each epoch). Repeated images are
        augmented independently, so copies differ. Statistics, internal
        validation and prediction are untouched (statistics come from the
        distinct training images). Refused together with ``class_weight``
        (classes would be weighted twice); ``sample_weight`` travels with
        each repeated row.
    cache : None, "auto" or str, default="auto"
        When ``X`` is a sequence of image file paths: where decoded, resized
        images are kept, so that each file is decoded once per process, not
        once per epoch, fold and search candidate. ``"auto"``: in memory, up
        to a quarter of the memory available at first use (at most 8 GiB),
        then in files under a ``skimgaug-cache-<user>`` folder in the
        temporary directory. A folder path: in files there (kept for later
        runs, shared by joblib or Dask workers on the same machine; written
        atomically). ``None``: no cache. A file is recognised by its path,
        size and modification time (a changed file is decoded again) and by
        ``target_size`` and ``color_mode``. Pickling the estimator never
        pickles cached pixels.
    validation_split : float, default=0.0
        Fraction of the training data held out, stratified and seeded, before
        any augmentation; it goes through the standardization path only, so
        ``val_*`` metrics and ``EarlyStopping`` see clean images. With
        ``fit(X, y, groups=...)``, whole groups are held out.
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
        target_size=None,
        color_mode="rgb",
        tta=0,
        balance=None,
        cache="auto",
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
        self.tta = tta
        self.balance = balance
        self.cache = cache

    # ------------------------------------------------------------------
    # scikit-learn citizenship
    # ------------------------------------------------------------------
    def __sklearn_tags__(self):
        return classifier_tags(super().__sklearn_tags__())

    # ------------------------------------------------------------------
    # Settings: validated before any data is touched
    # ------------------------------------------------------------------
    def _check_settings(self):
        return check_settings(self)

    def _type_of_target(self, y):
        return refine_target_type(super()._type_of_target(y), y)

    def _check_model_param(self):
        # A subclass's _keras_build_fn is the model, as in scikeras.
        if self.model is None and self.build_fn is None and not hasattr(self, "_keras_build_fn"):
            return models.default_model
        return super()._check_model_param()

    def _build_keras_model(self):
        # What a builder returns is checked here, before scikeras uses it
        # ("'NoneType' object has no attribute 'compiled'", "You must provide
        # a loss or a compiled model").
        model = super()._build_keras_model()
        builder = self.model if self.model is not None else self.build_fn
        name = getattr(builder, "__qualname__", None) or repr(builder)
        return check_built_model(model, name, loss_given=self.loss is not None)

    def _get_compile_kwargs(self):
        compile_kwargs = super()._get_compile_kwargs()
        # The default model with the default optimizer: Adam at the learning rate
        # that makes it learn within 10 epochs at every common image size
        # (benchmarks/bench_default_model.py).
        default_model = self._check_model_param() is models.default_model
        routed = any(key.startswith("optimizer__") for key in self.get_params())
        if default_model and self.optimizer == "adam" and not routed:
            compile_kwargs["optimizer"].learning_rate = default_learning_rate(self._planned_steps())
        return compile_kwargs

    def _planned_steps(self):
        """Training steps the fit being built plans: epochs x batches per epoch."""
        n = self.X_shape_[0] if getattr(self, "X_shape_", None) else 0
        n = getattr(self, "_rows_per_epoch", None) or n  # balanced epochs: more rows
        settings = self._settings
        batch_size = settings.batch_size or 32
        batch_size = n if batch_size == -1 else batch_size
        rows = int(n * (1 - settings.validation_split))
        return max(1, settings.epochs * -(-rows // max(1, batch_size)))

    def _ensure_compiled_model(self):
        # A builder's uncompiled model is compiled with the estimator's optimizer
        # and metrics and, without a loss given, the loss that fits the labels
        # (scikeras would say "You must provide a loss or a compiled model").
        if not self.model_.compiled and self.loss is None and len(self.model_.outputs) == 1:
            compile_kwargs = self._get_compile_kwargs()
            units = self.model_.outputs[0].shape[-1]
            compile_kwargs["loss"] = loss_for(self._get_metadata(), units)
            self.model_.compile(**compile_kwargs)
        super()._ensure_compiled_model()

    # ------------------------------------------------------------------
    # Input checks, shared by fit and predict (scikeras hook)
    # ------------------------------------------------------------------
    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        owner = type(self).__name__
        # X and y without reset: a continued fit (partial_fit, warm_start), whose
        # data must look like the first fit's, as scikeras requires.
        continued = not reset and X is not None and y is not None
        if y is not None:
            check_label_values(y)
            y_sample_shape = np.asarray(y).shape[1:]  # as given: a column y becomes 1-D below
            if reset:
                self._y_sample_shape = y_sample_shape
            elif continued:
                check_same_target_shape(y_sample_shape, self, owner)
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
            if continued and not np.can_cast(X.dtype, self.X_dtype_):
                raise ValueError(
                    f"Got X with dtype {X.dtype}, but this {owner} expected {self.X_dtype_} "
                    f"and casting from {X.dtype} to {self.X_dtype_} is not safe!"
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
            target_size = self._settings.target_size
            cache = self._settings.cache
            paths = ImagePaths(X, target_size or (1, 1), self._settings.color_mode, cache)
            if y is not None:
                check_n_samples(paths, y)
            sizes = paths.check_files()
            if target_size is None and len(paths):
                target_size = size_of_images(sizes, type(self).__name__)
                paths = ImagePaths(paths.paths, target_size, self._settings.color_mode, cache)
        else:  # decode to the shape the model was fitted on
            height, width, channels = self.X_shape_[1:]
            mode = next((m for m, (_, c) in COLOR_MODES.items() if c == channels), None)
            if mode is None:
                raise ValueError(
                    f"This {type(self).__name__} was fitted on images with {channels} "
                    "channels; image files decode to 1 (grayscale), 3 (rgb) or 4 (rgba)."
                )
            cache = self._inference_settings()["cache"]
            paths = ImagePaths(X, (height, width), mode, cache)
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
    def fit(self, X, y, sample_weight=None, groups=None, **kwargs):
        """Build a new model and train it on augmented batches of ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n, h, w, c), (n, h, w) or (n, features)
            Training images (or rows, reshaped with ``image_shape``).
        y : array-like of shape (n,) or (n, n_classes)
            Labels: integers or strings, binary or multiclass, or one-hot.
        sample_weight : array-like of shape (n,), default=None
            Per-sample weights, multiplied by ``class_weight`` weights.
        groups : array-like of shape (n,), default=None
            Group of each sample (a patient, say): the internal validation
            split (``validation_split``) then holds out whole groups,
            stratified as far as the groups allow. With scikit-learn's
            metadata routing on, ``set_fit_request(groups=True)`` routes the
            same groups that split the folds of ``cross_validate`` or
            ``GridSearchCV`` here.
        **kwargs
            Passed to ``keras.Model.fit`` as in scikeras; ``validation_data``
            is standardized like any inference input.

        Returns
        -------
        self
        """
        settings = self._check_settings()  # every parameter, before scikeras reads one
        validate_fit_arguments(kwargs, type(self).__name__)
        sample_weight = check_sample_weight(sample_weight)
        if groups is not None:
            groups = np.asarray(groups)
            if groups.ndim != 1 or len(groups) != n_samples(X):
                raise ValueError(
                    f"groups must be 1-D with one entry per sample of X ({n_samples(X)}); "
                    f"got shape {groups.shape}."
                )
        check_balanced_weights(self, settings.balance, y, sample_weight, kwargs)
        if self.warm_start and self.initialized_:
            self._update_settings_for_continued_fit()
        self._fit_groups = groups
        try:
            with self._process_state_preserved():
                super().fit(X, y, sample_weight=sample_weight, **kwargs)
        finally:
            del self._fit_groups
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train the current model for one epoch (statistics are kept).

        See :meth:`fit` for the parameters; ``classes`` as in scikeras.
        Random augmentation settings, ``engine`` and ``validation_split``
        changed since the last call take effect; standardization settings
        belong to the model and cannot change (``ValueError``).
        """
        settings = self._check_settings()  # every parameter, before scikeras reads one
        validate_fit_arguments(kwargs, type(self).__name__)
        sample_weight = check_sample_weight(sample_weight)
        check_balanced_weights(self, settings.balance, y, sample_weight, kwargs)
        if self.initialized_:
            self._update_settings_for_continued_fit()
        with self._process_state_preserved():
            super().partial_fit(X, y, classes=classes, sample_weight=sample_weight, **kwargs)
        return self

    def initialize(self, X, y=None):
        """Build the model without training it (see scikeras); settings are checked."""
        with self._process_state_preserved():
            return super().initialize(X, y)

    @contextlib.contextmanager
    def _process_state_preserved(self):
        """Leave the caller's process as it was: global RNGs, TensorFlow determinism.

        Unseeded fits re-seed Python's ``random`` (where Keras draws default
        initializer seeds) from fresh entropy inside, so that they still
        differ from each other although the caller's generator is restored.
        """
        limit_tensorflow_threads()
        random_state = validate_parameter("random_state", self.random_state, type(self).__name__)
        seed = None if random_state is None else resolve_seed(random_state)
        with (
            preserved_op_determinism(),
            preserved_global_rngs(fresh=self.random_state is None),
            private_keras_seeds(seed),
            quiet_cross_model_retracing(),
        ):
            yield

    def _update_settings_for_continued_fit(self):
        """Re-validate settings before a fit that continues the current model.

        Augmentation settings, ``engine`` and ``validation_split`` take
        effect on the continued fit. Standardization (and format) settings
        were used to learn the model's statistics: changing them raises.
        """
        settings = self._check_settings()
        previous = getattr(self, "_settings", None)
        if previous is not None:
            changed = changed_model_settings(previous.datagen, settings.datagen)
            if changed:
                listed = ", ".join(f"{key} ({was!r} -> {now!r})" for key, was, now in changed)
                raise ValueError(
                    f"Standardization settings belong to the fitted model and cannot "
                    f"change in a continued fit (warm_start=True or partial_fit); "
                    f"changed: {listed}. Set them back, or fit a new model "
                    "(warm_start=False, or clone the estimator)."
                )
        self._settings = settings
        self.augmentation_ = dict(settings.datagen.augmentation)

    def _initialize(self, X, y=None):
        # (Re)building the model: validate settings first, then data.
        self._settings = self._check_settings()
        self._rows_per_epoch = rows_per_epoch(y, self._settings.balance)
        X, y = super()._initialize(X, y)
        self.augmentation_ = dict(self._settings.datagen.augmentation)
        self.standardizer_ = self._settings.datagen.standardizer()
        return X, y

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        check_single_input(X, self._settings.datagen, type(self).__name__)
        split_seed, batch_seed, _, sample_seed = child_seeds(resolve_seed(self.random_state), 4)
        plan = plan_training(self, X, y, sample_weight, kwargs, split_seed)
        batches = training_batches(self, plan, X, y, sample_weight, batch_seed, initial_epoch)
        running = batches.augmenter.running() if batches.augmenter else contextlib.nullcontext()
        user_callbacks = self._fit_callbacks
        self._fit_callbacks = [batches.epoch_callback(), *(user_callbacks or [])]
        try:
            with running, batch_errors_raised(batches, plan.validation_data):
                super()._fit_keras_model(
                    batches,
                    None,
                    sample_weight=None,
                    warm_start=warm_start,
                    epochs=epochs,
                    initial_epoch=initial_epoch,
                    # Keras ignores batch sizes for a dataset; they say what the batches hold.
                    batch_size=plan.batch_size,
                    validation_batch_size=plan.validation_batch_size,
                    validation_split=0.0,
                    shuffle=False,
                    validation_data=plan.validation_data,
                    **kwargs,
                )
        finally:
            self._fit_callbacks = user_callbacks
        check_inference_mode(self, X, y, plan.train, sample_seed)
        warn_if_chance_level(self, *training_part(y, sample_weight, plan.train))

    def _balance_by(self, y):
        """The class of each sample when epochs are balanced, else None."""
        if self._settings.balance is None:
            return None
        classes = _strata(y) if not isinstance(y, (list, tuple, dict)) else None
        if classes is None:
            raise ValueError(
                f"balance={self._settings.balance!r} needs one class per sample; "
                "multilabel and multi-output targets have none. Use balance=None."
            )
        return classes

    def _inference_validation_data(self, validation_data, batch_size):
        """User-given ``validation_data=(X, y[, w])``, through the inference path."""
        X_val, y_val, *rest = validation_data
        X_val, _ = self._validate_data(X_val)  # X and y together would be a continued fit
        _, y_val = self._validate_data(None, y_val)
        check_n_samples(X_val, y_val)
        X_val = self.feature_encoder_.transform(X_val)  # as the training X
        y_val = self.target_encoder_.transform(y_val)
        weights = np.asarray(rest[0], dtype=np.float64) if rest else None
        return InferenceBatches(
            X_val, y_val, weights, np.arange(n_samples(X_val)), self.standardizer_, batch_size
        )

    # ------------------------------------------------------------------
    # Fitted state, read by save_model and given back by load_model
    # ------------------------------------------------------------------
    def _get_fitted_state(self):
        """The fitted attributes and the private state of the fit, as a :class:`FittedState`."""
        attributes = {name: v for name, v in vars(self).items() if is_fitted_name(name)}
        return FittedState(
            attributes=attributes,
            settings=self._settings,
            random_state=getattr(self, "_random_state", None),
            y_sample_shape=getattr(self, "_y_sample_shape", None),
        )

    def _set_fitted_state(self, state):
        """Make this estimator fitted with ``state`` (what ``load_model`` read); return it."""
        vars(self).update(state.attributes)
        if isinstance(state.attributes.get("history_"), dict):
            self.history_ = defaultdict(list, state.attributes["history_"])
        self._random_state = state.random_state
        if state.y_sample_shape is not None:
            self._y_sample_shape = state.y_sample_shape
        self._settings = state.settings
        self.augmentation_ = dict(state.settings.datagen.augmentation)
        self._initialize_callbacks()
        return self

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
        with preserved_global_rngs(), quiet_cross_model_retracing():
            tta = self._inference_settings()["tta"]
            X, _ = self._validate_data(X)
            batch_size = self._predict_batch_size(kwargs)
            return predict_in_chunks(
                lambda batch: self._predict_batch(batch, batch_size, kwargs),
                X,
                self.standardizer_,
                batch_size,
                augmenter=self._test_time_augmenter(tta),
                copies=tta,
                seed=child_seeds(resolve_seed(self.random_state), 3)[2],
            )

    def _predict_batch(self, batch, batch_size, kwargs):
        """The model's outputs for a standardized ``batch``.

        Batches of one shape (the last one padded): Keras traces its predict
        function once per model, not once per short batch.
        """
        raw = super()._predict_raw(padded_to_batches(batch, batch_size), **kwargs)
        return take(raw, slice(len(batch)))  # or one array per output

    def _inference_settings(self):
        """``tta`` and ``cache``, validated: they may be set after ``fit``, as in scikit-learn."""
        params = {name: getattr(self, name) for name in INFERENCE_PARAMETERS}
        return validate_parameters(params, type(self).__name__)

    def _test_time_augmenter(self, tta):
        """The training augmenter when ``tta`` > 0 and there is random augmentation."""
        if not tta or not self._settings.datagen.augments:
            return None
        return make_augmenter(self._settings.engine, self._settings.datagen.augmenter())

    def _predict_batch_size(self, kwargs):
        """The batch size ``keras.Model.predict`` will use (1 for "all at once")."""
        owner = type(self).__name__
        batch_size = check_param(
            "predict(batch_size=...)", kwargs.get("batch_size"), BATCH_SIZE, owner
        )
        if batch_size is None:
            routed = route_params(
                self.get_params(), destination="predict", pass_filter={"batch_size"}
            )
            batch_size = check_param("batch_size", routed.get("batch_size"), BATCH_SIZE, owner)
        if batch_size is None:
            return 32  # keras.Model.predict's default
        return 1 if batch_size == -1 else int(batch_size)

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
