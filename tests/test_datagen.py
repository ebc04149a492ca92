"""The ImageDataGenerator settings router: roles, validation, error messages."""

import inspect
import re

import numpy as np
import pytest

from skimgaug import DATAGEN_KEYS
from skimgaug._augment._keys import AUGMENTATION, STANDARDIZATION, resolve_datagen
from skimgaug._compat import image_data_generator_class

AUGMENTATION_KEYS = {
    "rotation_range",
    "width_shift_range",
    "height_shift_range",
    "brightness_range",
    "shear_range",
    "zoom_range",
    "channel_shift_range",
    "fill_mode",
    "cval",
    "horizontal_flip",
    "vertical_flip",
    "interpolation_order",
}
STANDARDIZATION_KEYS = {
    "rescale",
    "preprocessing_function",
    "samplewise_center",
    "samplewise_std_normalization",
    "featurewise_center",
    "featurewise_std_normalization",
    "zca_whitening",
    "zca_epsilon",
}


def test_key_table_covers_every_image_data_generator_keyword():
    # Fails loudly when a Keras release adds, removes or renames an argument.
    signature = inspect.signature(image_data_generator_class().__init__)
    names = set(signature.parameters) - {"self"}
    assert set(DATAGEN_KEYS) == names


def test_roles_follow_the_documented_split():
    assert {k for k, s in DATAGEN_KEYS.items() if s.role == AUGMENTATION} == AUGMENTATION_KEYS
    assert {k for k, s in DATAGEN_KEYS.items() if s.role == STANDARDIZATION} == STANDARDIZATION_KEYS


def test_identity_values_are_image_data_generator_defaults():
    defaults = inspect.signature(image_data_generator_class().__init__).parameters
    for key, spec in DATAGEN_KEYS.items():
        if spec.check is not None and key not in {"data_format", "dtype"}:
            assert spec.identity == defaults[key].default, key


def test_routed_keys_override_the_dict_and_split_by_role():
    config = resolve_datagen(
        {"rotation_range": 5, "rescale": 0.5}, {"rotation_range": 20, "featurewise_center": True}
    )
    assert config.augmentation == {"rotation_range": 20}
    assert config.standardization == {"rescale": 0.5, "featurewise_center": True}
    assert config.augments and config.needs_statistics and not config.is_empty


def test_transform_modifiers_alone_do_not_augment():
    config = resolve_datagen({"fill_mode": "constant", "cval": 1.0}, {})
    assert not config.augments


def test_identity_settings_are_empty():
    assert resolve_datagen({"rotation_range": 0, "horizontal_flip": False}, {}).is_empty
    assert resolve_datagen(None, {}).is_empty


@pytest.mark.parametrize(
    "value, expected",
    [(0.1, [0.9, 1.1]), ([0.5, 2], [0.5, 2.0])],
)
def test_zoom_range_forms(value, expected):
    generator = resolve_datagen({"zoom_range": value}, {}).augmenter()
    assert generator.zoom_range == pytest.approx(expected)


def test_numpy_scalars_are_accepted():
    config = resolve_datagen({"zoom_range": np.float32(0.2), "rotation_range": np.int64(3)}, {})
    assert config.augmenter().zoom_range == pytest.approx([0.8, 1.2])


def test_unknown_key_suggests_the_closest_name():
    with pytest.raises(
        ValueError,
        match=r"unknown ImageDataGenerator option 'rotation'; did you mean 'rotation_range'\?",
    ):
        resolve_datagen({"rotation": 10}, {})


def test_unknown_routed_key_names_its_parameter():
    with pytest.raises(ValueError, match=r"datagen__zoom: unknown .*did you mean 'zoom_range'"):
        resolve_datagen(None, {"zoom": 0.1})


def test_estimator_parameter_inside_datagen_is_pointed_out():
    with pytest.raises(ValueError, match=r"'epochs' is a parameter of AugmentedKerasClassifier"):
        resolve_datagen({"epochs": 3}, {}, estimator_params={"epochs": 1})


def test_validation_split_is_refused_with_pointers():
    with pytest.raises(ValueError, match=r"validation_split=\.\.\.\).*cross_val_score"):
        resolve_datagen({"validation_split": 0.2}, {})


def test_channels_first_is_refused():
    with pytest.raises(ValueError, match=r"channels_last.*np\.moveaxis"):
        resolve_datagen({"data_format": "channels_first"}, {})


@pytest.mark.parametrize(
    "key, value, allowed",
    [
        ("rotation_range", -5, "a finite number >= 0"),
        ("rotation_range", float("nan"), "a finite number >= 0"),
        ("width_shift_range", -0.1, "a number >= 0"),
        ("height_shift_range", [], "a non-empty list"),
        ("shear_range", "a lot", "a finite number >= 0"),
        ("zoom_range", 1.5, r"a number in \[0, 1\)"),
        ("zoom_range", (1.2, 0.8), r"0 < low <= high"),
        ("brightness_range", 0.5, "two increasing numbers"),
        ("brightness_range", (1.2, 0.8), "two increasing numbers"),
        ("brightness_range", (0.5, 1.0, 1.5), "two increasing numbers"),
        ("channel_shift_range", -1, "a finite number >= 0"),
        ("fill_mode", "mirror", "one of 'constant', 'nearest', 'reflect', 'wrap'"),
        ("cval", None, "a finite number"),
        ("horizontal_flip", "yes", "True or False"),
        ("interpolation_order", 7, "an integer spline order from 0 to 5"),
        ("rescale", 0, "None or a finite non-zero number"),
        ("preprocessing_function", "sqrt", "None or a function"),
        ("featurewise_center", 1, "True or False"),
        ("zca_epsilon", 0, "a finite number > 0"),
        ("dtype", "int32", "'float32' or 'float64'"),
        ("dtype", "float16", "has no float16"),
    ],
)
def test_out_of_range_values_name_key_value_and_what_is_allowed(key, value, allowed):
    pattern = rf"datagen\['{key}'\] must be [^;]*{allowed}[^;]*; got {re.escape(repr(value))}"
    with pytest.raises(ValueError, match=pattern):
        resolve_datagen({key: value}, {})


def test_all_problems_are_reported_at_once():
    with pytest.raises(ValueError) as info:
        resolve_datagen({"rotation": 1, "zoom_range": 3, "fill_mode": "x"}, {})
    message = str(info.value)
    assert message.count("\n- ") == 3


def test_datagen_must_be_a_mapping():
    with pytest.raises(TypeError, match=r"'datagen' parameter .* must be None or a dict"):
        resolve_datagen([("rotation_range", 10)], {})


def test_nested_routing_is_refused():
    with pytest.raises(ValueError, match=r"cannot be nested further; did you mean 'zoom_range'"):
        resolve_datagen(None, {"zoom_range__low": 0.1})
