"""The documentation's checks: public docstrings (numpydoc) and the CLI reference.

The Sphinx build itself (``python -m sphinx -W --keep-going -b html docs
docs/_build/html``) runs in CI, not here; these tests cover what can go wrong
without building: a docstring whose parameters drift from the signature, and a
sub-command missing from the generated command-line reference.
"""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: The public API the reference documents (docs/api.rst), by import name.
PUBLIC_OBJECTS = [
    "skimgaug.AugmentedKerasClassifier",
    "skimgaug.AugmentedKerasClassifier.fit",
    "skimgaug.AugmentedKerasClassifier.partial_fit",
    "skimgaug.AugmentedKerasClassifier.predict_proba",
    "skimgaug.AugmentedKerasClassifier.predict",
    "skimgaug.AugmentedKerasClassifier.score",
    "skimgaug.AugmentedKerasClassifier.initialize",
    "skimgaug.AugmentedKerasRegressor",
    "skimgaug.AugmentedKerasRegressor.fit",
    "skimgaug.AugmentedKerasRegressor.partial_fit",
    "skimgaug.AugmentedKerasRegressor.predict",
    "skimgaug.AugmentedKerasRegressor.score",
    "skimgaug.save_model",
    "skimgaug.load_model",
    "skimgaug.plot_augmentations",
    "skimgaug.save_augmentation_preview",
    "skimgaug.models.default_model",
    "skimgaug.models.pretrained",
    "skimgaug.models.loss_for",
    "skimgaug.models.output_layer_and_loss",
    "skimgaug.datasets.load_image_folder",
    "skimgaug.datasets.load_image_csv",
    "skimgaug.datasets.load_digits_images",
    "skimgaug.datasets.load_texture_patches",
    "skimgaug.datasets.make_toy_images",
    "skimgaug.datasets.write_image_folder",
    "skimgaug.evaluation.evaluate",
    "skimgaug.evaluation.Evaluation",
    "skimgaug.evaluation.Evaluation.from_predictions",
    "skimgaug.evaluation.Evaluation.from_values",
    "skimgaug.evaluation.paired_difference",
    "skimgaug.exceptions.CacheWarning",
    "skimgaug.exceptions.ChanceLevelWarning",
    "skimgaug.exceptions.InvalidParameterError",
    "skimgaug.exceptions.MixedImageSizesWarning",
]

#: numpydoc validation codes that fail the test: a docstring that is missing or
#: disagrees with the signature. Style-only codes (summary wording, capital letters,
#: See Also and Examples sections, ...) are not checked.
CHECKED_CODES = {
    "GL08": "the object has no docstring",
    "SS01": "no summary line",
    "PR01": "a parameter of the signature is not documented",
    "PR02": "a documented parameter is not in the signature",
    "PR03": "parameters documented in another order than the signature's",
    "PR10": "a parameter line lacks the space before its colon",
    "RT01": "a function that returns a value has no Returns section",
}

#: Failures known today, by object and code, each with the reason. The test fails
#: when a new one appears *and* when one of these is fixed (then delete its entry),
#: so this list only shrinks. Fix them in the docstrings under skimgaug/.
KNOWN = {
    # scikeras' parameters (loss, optimizer, epochs, batch_size, callbacks,
    # class_weight, verbose, warm_start, ...) are in the signature but described
    # together under **kwargs rather than one by one.
    "skimgaug.AugmentedKerasClassifier": {"PR01"},
}


def _failures(name):
    """The checked numpydoc errors of one object, as ``{code: message}``."""
    from numpydoc.validate import validate

    result = validate(name)
    found = {}
    for code, message in result["errors"]:
        if code in CHECKED_CODES:
            found.setdefault(code, message)
    return found


@pytest.mark.parametrize("name", PUBLIC_OBJECTS)
def test_public_docstrings_match_signatures(name):
    pytest.importorskip("numpydoc")
    found = _failures(name)
    known = KNOWN.get(name, set())
    for code, message in sorted(found.items()):
        print(f"{name}: {code} {message}{'  (known)' if code in known else ''}")
    new = {code: found[code] for code in sorted(set(found) - known)}
    fixed = sorted(known - set(found))
    assert not new, f"{name}: numpydoc validation failed: {new}"
    assert not fixed, f"{name}: {fixed} no longer fail(s): remove them from KNOWN in {__file__}"


def test_known_failures_are_public_objects():
    assert set(KNOWN) <= set(PUBLIC_OBJECTS)
    assert all(codes <= set(CHECKED_CODES) for codes in KNOWN.values())


def _cli_reference():
    """docs/_ext/cli_reference.py, the Sphinx extension that writes the CLI page."""
    path = ROOT / "docs" / "_ext" / "cli_reference.py"
    spec = importlib.util.spec_from_file_location("cli_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_has_a_section_per_subcommand():
    pytest.importorskip("docutils")  # installed with numpydoc (through Sphinx)
    from docutils import nodes
    from docutils.core import publish_doctree

    from skimgaug.cli import build_parser

    parser = build_parser()
    commands = list(parser._subparsers._group_actions[0].choices)
    assert {"cv", "search", "train", "predict", "preview"} <= set(commands)

    text = _cli_reference().cli_reference_rst(parser)
    # Parsed as the Sphinx page parses it (errors in the generated reST raise here).
    doctree = publish_doctree(text, settings_overrides={"report_level": 2, "halt_level": 2})
    sections = {
        section[0].astext(): section.next_node(nodes.literal_block).astext()
        for section in doctree.findall(nodes.section)
    }
    assert list(sections) == ["skimgaug"] + [f"skimgaug {name}" for name in commands]
    for title, help_text in sections.items():
        # Each section holds that parser's own --help, verbatim.
        assert help_text.startswith(f"usage: {title} "), (title, help_text[:80])
        assert "-h, --help" in help_text
    for name, sub in parser._subparsers._group_actions[0].choices.items():
        for action in sub._actions:
            for option in action.option_strings:
                assert option in sections[f"skimgaug {name}"], (name, option)
