"""DICOM files as X: modality values, windows, colour, patients from headers, nothing else read."""

import os
import sys

import numpy as np
import pytest
from dicom_files import write_dicom

from skimgaug import AugmentedKerasClassifier
from skimgaug._data._paths import ImagePaths, _stored_header, decode_image
from skimgaug.datasets import load_image_csv, load_image_folder
from skimgaug.exceptions import InvalidParameterError

pytest.importorskip("pydicom")

RAW = (np.arange(16, dtype=np.int16).reshape(4, 4) * 100).astype(np.int16)


def _gray(path, window=None, size=(4, 4)):
    return decode_image(str(path), size, "grayscale", window=window)[..., 0]


def test_ct_values_are_hounsfield_units_and_a_window_maps_them_onto_0_255(tmp_path):
    path = write_dicom(tmp_path / "ct.dcm", RAW, slope=1.0, intercept=-1024, signed=True)
    np.testing.assert_allclose(_gray(path), RAW - 1024.0)
    assert _stored_header(str(path)) == (4, 4, "I;16")
    center, width = -600.0, 1500.0
    expected = np.clip((RAW - 1024.0 - (center - width / 2)) / width, 0, 1) * 255
    np.testing.assert_allclose(_gray(path, (center, width)), expected, rtol=1e-5)
    np.testing.assert_allclose(_gray(path, (-600.0, 1500.0)), _gray(path, (center, width)))
    # the file's own window
    own = write_dicom(tmp_path / "own.dcm", RAW, intercept=-1024, signed=True, window=(40, 80))
    np.testing.assert_allclose(
        _gray(own, "dicom"), np.clip((RAW - 1024.0 - 0.0) / 80, 0, 1) * 255, rtol=1e-5
    )
    with pytest.raises(ValueError, match="ct.dcm' has none; give window"):
        _gray(path, "dicom")


def test_slope_monochrome1_bits_and_colour(tmp_path):
    scaled = write_dicom(tmp_path / "s.dcm", RAW, slope=0.5, intercept=10.0, signed=True)
    np.testing.assert_allclose(_gray(scaled), RAW * 0.5 + 10.0)
    # MONOCHROME1: the lowest value is white; inverted within what 12 stored bits can hold
    values = np.array([[0, 4095], [100, 200]])
    inverted = write_dicom(tmp_path / "m1.dcm", values, photometric="MONOCHROME1", bits=16)
    np.testing.assert_allclose(_gray(inverted, size=(2, 2)), 65535.0 - values)
    np.testing.assert_allclose(
        _gray(inverted, (2047.5, 4095.0), size=(2, 2)),
        255 - np.clip(values / 4095.0, 0, 1) * 255,
        atol=0.1,
    )
    eight = write_dicom(tmp_path / "8.dcm", np.array([[0, 255], [7, 9]]), bits=8)
    np.testing.assert_allclose(_gray(eight, size=(2, 2)), [[0, 255], [7, 9]])
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[..., 0], rgb[..., 2] = 200, 30
    colour = write_dicom(tmp_path / "rgb.dcm", rgb, photometric="RGB", bits=8)
    assert _stored_header(str(colour)) == (4, 6, "RGB")
    np.testing.assert_allclose(decode_image(str(colour), (4, 6), "rgb")[1, 2], [200, 0, 30])
    with pytest.raises(ValueError, match="A window applies to grayscale DICOM images"):
        decode_image(str(colour), (4, 6), "rgb", window=(40.0, 80.0))


def test_files_without_extension_and_resizing(tmp_path):
    path = write_dicom(tmp_path / "IM0001", RAW, intercept=-1024, signed=True)
    assert _stored_header(str(path)) == (4, 4, "I;16")
    resized = decode_image(str(path), (8, 8), "rgb")
    assert resized.shape == (8, 8, 3) and np.allclose(resized[..., 0], resized[..., 2])


def test_what_cannot_be_read_is_refused_naming_the_file(tmp_path, monkeypatch):
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEG2000Lossless

    frames = write_dicom(tmp_path / "mf.dcm", RAW, signed=True, frames=3)
    with pytest.raises(ValueError, match="mf.dcm' holds 3 frames"):
        _gray(frames)
    with pytest.raises(ValueError, match="holds 3 frames"):
        _stored_header(str(frames))
    compressed = write_dicom(tmp_path / "j2k.dcm", RAW, signed=True)
    import pydicom

    ds = pydicom.dcmread(compressed)
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + b"\x00" * 60])
    ds.save_as(compressed)
    with pytest.raises(ValueError, match=r"j2k.dcm'.*JPEG 2000.*pylibjpeg"):
        _gray(compressed)
    (tmp_path / "not.dcm").write_bytes(b"not a dicom file at all")
    with pytest.raises(ValueError, match="not.dcm"):
        _gray(tmp_path / "not.dcm")
    monkeypatch.setitem(sys.modules, "pydicom", None)
    with pytest.raises(ImportError, match=r"skimgaug\[dicom\]"):
        _gray(tmp_path / "mf.dcm")


def test_rle_compressed_files_decode_without_extra_packages(tmp_path):
    import pydicom
    from pydicom.uid import RLELossless

    path = write_dicom(tmp_path / "rle.dcm", RAW, intercept=-1024, signed=True)
    ds = pydicom.dcmread(path)
    ds.compress(RLELossless)
    ds.save_as(path)
    np.testing.assert_allclose(_gray(path), RAW - 1024.0)


@pytest.fixture
def dicom_folder(tmp_path):
    """Two classes of 8 CT-like files, 4 patients, one planted patient name."""
    rng = np.random.default_rng(0)
    for label, offset in (("normal", 0), ("lesion", 600)):
        (tmp_path / "data" / label).mkdir(parents=True)
        for i in range(8):
            pixels = rng.integers(0, 400, (12, 12)).astype(np.int16)
            pixels[4:8, 4:8] += offset
            write_dicom(
                tmp_path / "data" / label / f"{label}{i}.dcm",
                pixels,
                intercept=-1024,
                signed=True,
                patient_id=f"{label}-{i // 2}",
                patient_name="DOE^JANE",
                extra={"InstitutionName": "SECRET HOSPITAL"},
            )
    return tmp_path / "data"


def test_groups_come_from_the_header_tag_named(dicom_folder, tmp_path):
    paths, labels, groups = load_image_folder(dicom_folder, groups="dicom:PatientID")
    assert len(paths) == 16 and sorted(set(groups.tolist()))[:2] == ["lesion-0", "lesion-1"]
    csv_file = tmp_path / "index.csv"
    rows = [
        f"{os.path.relpath(p, tmp_path)},{label}" for p, label in zip(paths, labels, strict=True)
    ]
    csv_file.write_text("path,label\n" + "\n".join(rows) + "\n")
    _, _, from_csv = load_image_csv(csv_file, group_column="dicom:PatientID")
    assert from_csv.tolist() == groups.tolist()
    with pytest.raises(ValueError, match="'PatientIdentity' is not a DICOM keyword"):
        load_image_folder(dicom_folder, groups="dicom:PatientIdentity")
    write_dicom(dicom_folder / "normal" / "anonymous.dcm", RAW, signed=True, patient_id=None)
    with pytest.raises(ValueError, match=r"1 of 17 DICOM files have no PatientID: .*anonymous"):
        load_image_folder(dicom_folder, groups="dicom:PatientID")


def test_the_window_is_a_parameter_checked_saved_and_applied_alike(dicom_folder, tmp_path):
    from sklearn.base import clone

    from skimgaug import load_model, save_model

    paths, labels = load_image_folder(dicom_folder)
    with pytest.raises(InvalidParameterError, match="'window' parameter"):
        AugmentedKerasClassifier(window="lungs", epochs=1).fit(paths, labels)
    with pytest.raises(InvalidParameterError, match="'window' parameter"):
        AugmentedKerasClassifier(window=(40, 0), epochs=1).fit(paths, labels)
    clf = AugmentedKerasClassifier(
        window="lung", color_mode="grayscale", epochs=1, verbose=0, random_state=0, cache=None
    )
    assert clone(clf).get_params()["window"] == "lung"
    clf.fit(paths, labels)
    save_model(clf, tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert loaded.window == "lung"
    np.testing.assert_allclose(loaded.predict_proba(paths), clf.predict_proba(paths), atol=1e-6)
    # the cache keeps each window's decoding apart
    cached = str(tmp_path / "cache")
    lung = ImagePaths(paths[:2], (12, 12), "grayscale", cached, (-600.0, 1500.0)).load()
    brain = ImagePaths(paths[:2], (12, 12), "grayscale", cached, (40.0, 80.0)).load()
    assert not np.allclose(lung, brain)
    again = ImagePaths(paths[:2], (12, 12), "grayscale", cached, (-600.0, 1500.0)).load()
    np.testing.assert_array_equal(again, lung)


def _outputs_text(folder):
    """Every file written below ``folder`` as text (zip members of model.keras included)."""
    import zipfile

    texts = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        texts.append(data.decode("latin-1"))
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                texts += [archive.read(n).decode("latin-1") for n in archive.namelist()]
    return "\n".join(texts)


@pytest.mark.slow  # a cross-validation, a train and a predict
def test_cv_train_predict_on_dicom_write_nothing_of_the_header_but_the_named_tag(
    dicom_folder, tmp_path, capsys
):
    from skimgaug import cli

    out = tmp_path / "outputs"
    common = ["--window", "soft_tissue", "--color-mode", "grayscale", "--epochs", "1"]
    source = [str(dicom_folder), "--groups", "dicom:PatientID", *common]
    assert (
        cli.main(["cv", *source, "--folds", "2", "--bootstraps", "20", "--out", str(out / "cv")])
        == 0
    )
    printed = capsys.readouterr().out
    assert "8 groups" in printed and "window=(50.0, 400.0)" in printed
    page = (out / "cv" / "report.html").read_text()
    assert "center 50, width 400 (onto 0-255)" in page
    assert "8, each kept on one side of every split" in page
    assert cli.main(["train", *source, "--out", str(out / "model")]) == 0
    assert (
        cli.main(["predict", str(out / "model"), str(dicom_folder), "--out", str(out / "p.csv")])
        == 0
    )
    capsys.readouterr()
    written = _outputs_text(out)
    for secret in ("DOE", "JANE", "SECRET", "HOSPITAL"):
        assert secret not in written, secret


def test_a_bad_window_is_a_usage_error_before_tensorflow(tmp_path):
    from conftest import run_cli_cases

    cases = [
        ["cv", "--digits", "--window", "lungs"],
        ["cv", "--digits", "--window", "40,0"],
        ["preview", "--digits", "--window", "40", "--out", "p.png"],
    ]
    for status, _, tensorflow, _, stderr in run_cli_cases(cases, tmp_path):
        assert status == 2 and "'window' parameter" in stderr and not tensorflow, stderr


def test_files_of_one_patient_without_groups_are_warned_about_without_naming_anyone(
    dicom_folder,
):
    from skimgaug.evaluation._audit import warn_if_names_look_like_patients

    paths, _ = load_image_folder(dicom_folder)
    with pytest.warns(UserWarning, match=r"8 patients .* have several files \(16 files\)") as w:
        warn_if_names_look_like_patients(paths)
    assert "normal-0" not in str(w[0].message) and "dicom:PatientID" in str(w[0].message)


@pytest.mark.slow  # three fits
def test_evaluate_keeps_patients_from_the_headers_apart(dicom_folder):
    from skimgaug import evaluate

    paths, labels, patients = load_image_folder(dicom_folder, groups="dicom:PatientID")
    clf = AugmentedKerasClassifier(
        window="lung", color_mode="grayscale", epochs=1, verbose=0, random_state=0
    )
    ev = evaluate(clf, paths, labels, groups=patients, cv=2, n_bootstraps=20, random_state=0)
    assert ev.audit["groups_in_several_folds"] == []
    assert ev.metric("accuracy", "patient")["n"] == 8
