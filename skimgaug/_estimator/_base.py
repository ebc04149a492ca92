"""What skimgaug's estimators share: augmentation in ``fit`` only, through scikeras' hooks.

:class:`AugmentedKerasBase` is mixed in before a scikeras wrapper
(``class AugmentedKerasClassifier(AugmentedKerasBase, KerasClassifier)``).
It overrides scikeras' hooks only: the settings are validated before any
data is touched, the training path (random transform, then standardize) and
the inference path (copy, then standardize) are built apart, the process
state is left as it was, and the fitted state is handed to saving through
one pair of methods.
"""

import contextlib
from collections import defaultdict

import numpy as np
from sklearn.exceptions import NotFittedError

from .. import models
from .._augment._batches import batch_errors_raised, padded_to_batches
from .._augment._predict import predict_in_chunks
from .._compat import (
    preserved_op_determinism,
    private_keras_seeds,
    quiet_cross_model_retracing,
)
from .._data._multi import check_single_input, n_samples, take
from .._parallel import limit_tensorflow_threads
from .._random import child_seeds, preserved_global_rngs, resolve_seed
from .._validation import check_built_model, check_sample_weight
from ..models._default import default_learning_rate
from ..models._heads import loss_for
from ._diagnostics import (
    pixel_range,
    warn_if_chance_level,
    warn_if_labels_are_constant,
    warn_if_out_of_range,
)
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
    warn_likely_mistakes,
)
from ._training import (
    check_inference_mode,
    mixes_batches,
    mixing_targets,
    plan_training,
    planned_steps,
    training_augmenter,
    training_batches,
    training_part,
)


class AugmentedKerasBase:
    """scikeras' hooks for augmentation in ``fit`` only; mixed in before a scikeras wrapper.

    The estimator that mixes it in declares the parameters (``datagen``,
    ``image_shape``, ``engine``, ``target_size``, ``color_mode``, ``tta``,
    ``balance``, ``cache`` and scikeras' own) and documents them.
    """

    _routing_prefixes = {"datagen", "augment"}

    # ------------------------------------------------------------------
    # Settings: validated before any data is touched
    # ------------------------------------------------------------------
    def check_settings(self):
        return check_settings(self)

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
        if groups is not None:
            groups = np.asarray(groups)
            if groups.ndim != 1 or len(groups) != n_samples(X):
                raise ValueError(
                    f"groups must be 1-D with one entry per sample of X ({n_samples(X)}); "
                    f"got shape {groups.shape}."
                )
        sample_weight = self._checked_fit_call(y, sample_weight, kwargs)
        if self.warm_start and self.initialized_:
            self._update_settings_for_continued_fit()
        self._fit_groups = groups
        try:
            with self._process_state_preserved():
                super().fit(X, y, sample_weight=sample_weight, **kwargs)
        finally:
            del self._fit_groups
        return self

    def _checked_fit_call(self, y, sample_weight, kwargs):
        """Every parameter and argument of a ``fit`` or ``partial_fit`` call, checked.

        Before scikeras reads any of them; returns the checked ``sample_weight``.
        """
        settings = self.check_settings()
        validate_fit_arguments(kwargs, type(self).__name__)
        sample_weight = check_sample_weight(sample_weight)
        check_balanced_weights(self, settings.balance, y, sample_weight, kwargs)
        return sample_weight

    def initialize(self, X, y=None):
        """Build the model without training it; settings are checked.

        Feature-wise standardization statistics are learned by ``fit`` only:
        an estimator that needs them cannot predict after ``initialize``.

        Parameters
        ----------
        X : array-like
            Samples shaped as in :meth:`fit`, from which the model's input
            shape is taken.
        y : array-like, default=None
            Labels, from which the model's output is sized.

        Returns
        -------
        self
        """
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
            preserved_op_determinism(seeded=seed is not None),
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
        self._settings = self.check_settings()
        warn_likely_mistakes(self._settings.datagen, type(self).__name__)
        self._rows_per_epoch = rows_per_epoch(y, self._settings.balance)
        X, y = super()._initialize(X, y)
        self.augmentation_ = dict(self._settings.datagen.augmentation)
        self.standardizer_ = self._settings.datagen.standardizer()
        return X, y

    def _fit_keras_model(self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs):
        check_single_input(X, self._settings.datagen, type(self).__name__)
        split_seed, batch_seed, _, sample_seed = child_seeds(resolve_seed(self.random_state), 4)
        mixing = mixes_batches(self._settings)
        targets = mixing_targets(self, y) if mixing else y  # soft targets to mix
        plan = plan_training(self, X, y, sample_weight, kwargs, split_seed, targets)
        self.validation_indices_ = plan.validation
        self.pixel_range_ = pixel_range(X, plan.train)
        warn_if_labels_are_constant(self, training_part(y, sample_weight, plan.train)[0])
        batches = training_batches(self, plan, X, targets, sample_weight, batch_seed, initial_epoch)
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
        if not mixing:  # a loss on mixed targets is not comparable with the chance level
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
            warn_if_out_of_range(self, X)
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
        """The training augmenter when ``tta`` > 0 and there is random augmentation.

        ``datagen``'s and ``augment``'s per-image transforms; never MixUp or
        CutMix, which mix an image with others of its batch (and their labels).
        """
        if not tta:
            return None
        return training_augmenter(self._settings, mixing=False)[0]
