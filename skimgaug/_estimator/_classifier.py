"""``AugmentedKerasClassifier``: scikeras' classifier with augmentation in ``fit`` only."""

import contextlib
from collections import defaultdict

import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.exceptions import NotFittedError

from .. import models
from .._augment._batches import batch_errors_raised, padded_to_batches
from .._augment._predict import predict_in_chunks
from .._augment._transforms import make_augmenter
from .._compat import (
    as_2d_proba,
    classifier_tags,
    preserved_op_determinism,
    private_keras_seeds,
    quiet_cross_model_retracing,
    refine_target_type,
)
from .._data._multi import check_single_input, n_samples, take
from .._parallel import limit_tensorflow_threads
from .._random import child_seeds, preserved_global_rngs, resolve_seed
from .._validation import check_built_model, check_sample_weight
from ..models._default import default_learning_rate
from ..models._heads import loss_for
from ._diagnostics import warn_if_chance_level
from ._inputs import predict_batch_size, validate_inputs
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
    continued_fit_settings,
    is_fitted_name,
    rows_per_epoch,
)
from ._training import (
    check_inference_mode,
    plan_training,
    planned_steps,
    training_batches,
    training_part,
)


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
            compile_kwargs["optimizer"].learning_rate = default_learning_rate(planned_steps(self))
        return compile_kwargs

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
        return validate_inputs(self, X, y, reset, y_numeric, super()._validate_data)

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
        """Settings validated again before a fit that continues the current model."""
        self._settings = continued_fit_settings(self)
        self.augmentation_ = dict(self._settings.datagen.augmentation)

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
            batch_size = predict_batch_size(self, kwargs)
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
