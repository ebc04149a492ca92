"""``AugmentedKerasClassifier``: scikeras' classifier with augmentation in ``fit`` only."""

from .._compat import as_2d_proba, classifier_tags, import_tensorflow, refine_target_type

import_tensorflow()  # first: the caller's Python random stays as it was  # noqa: I001

import numpy as np  # noqa: E402
from scikeras.wrappers import KerasClassifier  # noqa: E402

from ._base import AugmentedKerasBase  # noqa: E402


class AugmentedKerasClassifier(AugmentedKerasBase, KerasClassifier):
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
    augment : None or dict, default=None
        Random transforms beyond ``ImageDataGenerator``'s, applied to training
        batches only, after the ``datagen`` transforms and before
        standardization: ``rand_augment_ops``/``rand_augment_magnitude`` or
        ``trivial_augment`` (RandAugment, TrivialAugment-Wide),
        ``mixup_alpha``/``cutmix_alpha``/``mix_probability`` (MixUp and
        CutMix inside each batch, targets and sample weights mixed in the same
        proportion), ``erasing_probability``/``erasing_scale``,
        ``elastic_alpha``/``elastic_sigma``, ``gamma_range``,
        ``contrast_range``, ``saturation_range``, ``hue_range``,
        ``gaussian_noise_std`` (in the units after ``rescale``),
        ``blur_sigma_range``, ``clahe_clip_limit``/``clahe_probability``.
        Each key can be set or searched as ``augment__<key>``, which overrides
        the same key of ``augment`` (as ``datagen__<name>`` does ``datagen``'s:
        ``get_params`` shows both, the fit uses the override). See the user
        guide's "Augmentations" page.
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
    window : None, (center, width), "dicom" or a preset name, default=None
        The window of grayscale DICOM files (``.dcm``, or files that start
        as DICOM does): values from ``center - width / 2`` to
        ``center + width / 2`` (after Rescale Slope and Intercept: Hounsfield
        units for CT) are mapped linearly onto 0-255, as 8-bit images are,
        and clipped outside. ``"dicom"`` takes each file's Window Center and
        Width; presets ``"brain"`` (40, 80), ``"soft_tissue"`` (50, 400),
        ``"mediastinum"`` (50, 350), ``"lung"`` (-600, 1500), ``"bone"``
        (400, 1800). Deterministic preprocessing, applied alike in training,
        validation and prediction, and saved with the model. ``None``: the
        modality values as floats. Other image files are not affected.
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
        then in files under the user's cache folder
        (``$XDG_CACHE_HOME/skimgaug/images``, by default
        ``~/.cache/skimgaug/images``; mode 0700, files 0600). A folder path:
        in files there (kept for later runs, shared by joblib or Dask workers
        on the same machine; written atomically). A folder that is a symbolic
        link, belongs to another user or that others may write to is not
        used (a :class:`~skimgaug.exceptions.CacheWarning`; memory only); a
        damaged entry is decoded again. ``None``: no cache. A file is recognised by its path,
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
    metrics : None or list, default=None
        As in scikeras, except that ``None`` compiles the model with
        ``["accuracy"]``, so that ``history_`` holds the accuracy per epoch
        (``metrics=[]`` for none). A model compiled by its builder keeps its
        own metrics.
    epochs : int, default=1
        As in scikeras, whose default this keeps so that the class is a
        drop-in replacement; one epoch is rarely enough to train a CNN from
        scratch: use 10 to 30 for the default model on small images (the
        command line's default is 10), and search it with ``GridSearchCV``.
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
    validation_indices_ : ndarray of int or None
        The rows of the last ``fit``'s (or ``partial_fit``'s) ``X`` held out
        as the internal validation split (``validation_split``), None
        without one. :func:`skimgaug.evaluation.evaluate` and ``skimgaug cv``
        choose each fold's decision threshold on the fold model's predictions
        of these rows.
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

    _routing_prefixes = KerasClassifier._routing_prefixes | AugmentedKerasBase._routing_prefixes

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
        self.augment = augment
        self.image_shape = image_shape
        self.engine = engine
        self.target_size = target_size
        self.color_mode = color_mode
        self.window = window
        self.tta = tta
        self.balance = balance
        self.cache = cache

    # ------------------------------------------------------------------
    # scikit-learn citizenship
    # ------------------------------------------------------------------
    def __sklearn_tags__(self):
        return classifier_tags(super().__sklearn_tags__())

    # ------------------------------------------------------------------
    # What is a classifier's own: targets, partial_fit's classes, outputs
    # ------------------------------------------------------------------
    def _get_compile_kwargs(self):
        compile_kwargs = super()._get_compile_kwargs()
        # metrics=None: accuracy, which Keras users look for in history_ (scikeras: none).
        if compile_kwargs.get("metrics") is None:
            compile_kwargs["metrics"] = ["accuracy"]
        return compile_kwargs

    def _type_of_target(self, y):
        target_type = super()._type_of_target(y)
        not_binary = target_type == "multilabel-indicator" and not np.isin(y, (0, 1)).all()
        if not_binary or target_type in (
            "continuous",
            "continuous-multioutput",
            "multiclass-multioutput",
        ):
            two_d = np.ndim(y) == 2
            raise ValueError(
                f"{type(self).__name__} takes one label per image, or a 2-D 0/1 indicator "
                "matrix (one column per label, multi-label) or one-hot rows; got "
                + (
                    f"a 2-D y of shape {np.shape(y)} holding values other than 0 and 1"
                    if two_d
                    else "a continuous y (numbers that are not class labels, such as 0.5)"
                )
                + ". For numbers, use AugmentedKerasRegressor"
                + (
                    "; for several single-label targets, one classifier per column."
                    if two_d
                    else "."
                )
            )
        return refine_target_type(target_type, y)

    def _initialize(self, X, y=None):
        X, y = super()._initialize(X, y)
        if self.target_type_ == "multilabel-indicator":
            # The classes of each label, one row per label: scikit-learn's scorers
            # (roc_auc, average_precision) then read predict_proba's columns as one
            # probability per label, and cross_val_predict keeps them in order.
            self.classes_ = np.tile([0, 1], (self.n_classes_, 1))
        return X, y

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train the current model for one epoch (statistics are kept).

        The first call builds the model and learns the standardization
        statistics, as ``fit`` does. Random augmentation settings, ``engine``
        and ``validation_split`` changed since the last call take effect;
        standardization settings belong to the model and cannot change
        (``ValueError``).

        Parameters
        ----------
        X : array-like of shape (n, h, w, c), (n, h, w) or (n, features)
            Training images, as in :meth:`fit`.
        y : array-like of shape (n,) or (n, n_classes)
            Labels, as in :meth:`fit`.
        classes : array-like, default=None
            Every class that will ever be seen, as in scikeras (needed when
            the first batch of data lacks some).
        sample_weight : array-like of shape (n,), default=None
            Per-sample weights, as in :meth:`fit`.
        **kwargs
            Passed to ``keras.Model.fit``, as in :meth:`fit`.

        Returns
        -------
        self
        """
        sample_weight = self._checked_fit_call(y, sample_weight, kwargs)
        if self.initialized_:
            self._update_settings_for_continued_fit()
        with self._process_state_preserved():
            super().partial_fit(X, y, classes=classes, sample_weight=sample_weight, **kwargs)
        return self

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

    def predict(self, X, **kwargs):
        """Class labels for ``X``, from standardized, never augmented images.

        With ``tta`` > 0, from probabilities averaged over the clean image
        and ``tta`` augmented copies (see the class's ``tta`` parameter).

        Parameters
        ----------
        X : array-like
            Images shaped as in ``fit``, or image file paths when it was
            fitted on files.
        **kwargs
            Passed to ``keras.Model.predict`` as in scikeras.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            Labels as given to ``fit`` (one-hot or indicator rows when ``y``
            was).
        """
        return super().predict(X, **kwargs)

    def score(self, X, y, sample_weight=None):
        """Accuracy of :meth:`predict` on ``(X, y)`` (subset accuracy for multilabel ``y``).

        Parameters
        ----------
        X : array-like
            Images shaped as in ``fit``, or image file paths.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the mean.

        Returns
        -------
        float
            :func:`sklearn.metrics.accuracy_score` of the predictions.
        """
        return super().score(X, y, sample_weight=sample_weight)
