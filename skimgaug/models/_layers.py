"""skimgaug's own Keras layers, defined and registered with Keras on first use.

Importing this module does not import Keras: :func:`define_layers` defines
:class:`ImageNetPreprocessing` the first time a model is built, a pretrained
builder is unpickled, a model folder is loaded, or the name is imported.
"""

import numpy as np

from .._validation import check_param, one_of

#: The preprocessing modes of ``keras.applications.imagenet_utils.preprocess_input``.
_MODE = one_of("caffe", "tf", "torch")


def define_layers():
    """Define and register :class:`ImageNetPreprocessing` (once; imports Keras)."""
    global ImageNetPreprocessing
    if "ImageNetPreprocessing" in globals():
        return ImageNetPreprocessing

    import keras

    @keras.saving.register_keras_serializable(package="skimgaug")
    class ImageNetPreprocessing(keras.layers.Layer):
        """The ImageNet preprocessing of ``keras.applications``, as a layer.

        Equal to ``keras.applications.imagenet_utils.preprocess_input(x,
        mode=mode)`` on channels-last RGB images with values in 0..255:
        ``"caffe"`` flips RGB to BGR and subtracts the ImageNet channel means
        (ResNet50, VGG); ``"tf"`` scales to [-1, 1]; ``"torch"`` scales to
        [0, 1] and standardizes with the ImageNet means and deviations.

        Parameters
        ----------
        mode : {"caffe", "tf", "torch"}, default="caffe"
        **kwargs
            Keras layer arguments (``name``, ``dtype``).
        """

        _CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
        _TORCH_MEAN = (0.485, 0.456, 0.406)
        _TORCH_STD = (0.229, 0.224, 0.225)

        def __init__(self, mode="caffe", **kwargs):
            super().__init__(**kwargs)
            self.mode = check_param("mode", mode, _MODE, "ImageNetPreprocessing")

        def call(self, inputs):
            ops = keras.ops
            x = ops.cast(inputs, self.compute_dtype)
            if self.mode == "tf":
                return x / 127.5 - 1.0
            if self.mode == "torch":
                mean = np.asarray(self._TORCH_MEAN, dtype=self.compute_dtype)
                std = np.asarray(self._TORCH_STD, dtype=self.compute_dtype)
                return (x / 255.0 - mean) / std
            mean = np.asarray(self._CAFFE_MEAN_BGR, dtype=self.compute_dtype)
            return ops.flip(x, axis=-1) - mean

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "mode": self.mode}

    return ImageNetPreprocessing


def __getattr__(name):
    if name == "ImageNetPreprocessing":
        return define_layers()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
