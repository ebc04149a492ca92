"""DICOM files as images: pixel values as the modality defines them, windowed when asked.

A DICOM file (``.dcm``, ``.dicom``, or a file of another or no extension whose
128-byte preamble is followed by ``DICM``) is read with pydicom (the
``skimgaug[dicom]`` extra). Grayscale (MONOCHROME1/2) pixels go through the
modality transform (Rescale Slope and Intercept: Hounsfield units for CT) and
are kept as floats; MONOCHROME1 (where the lowest value is white) is inverted
within the range its stored bits can hold, so that bright means the same as in
MONOCHROME2. Colour files (RGB, or YBR converted to RGB) keep their 0-255
values. Multi-frame files are refused: one file is one image.

A window ``(center, width)``, a preset name or ``"dicom"`` (the file's own
Window Center and Width) maps ``center - width / 2`` .. ``center + width / 2``
linearly onto 0-255, the range of 8-bit images, clipping what lies outside;
it is deterministic preprocessing, applied alike to training, validation and
prediction, and part of the decoded-image cache's key. Only the header tags a
caller names (:func:`dicom_tags`) are ever read out of a file's header.
"""

import os

import numpy as np

#: Window presets ``(center, width)`` in Hounsfield units, as radiology
#: viewers commonly set them.
WINDOW_PRESETS = {
    "brain": (40.0, 80.0),
    "soft_tissue": (50.0, 400.0),
    "mediastinum": (50.0, 350.0),
    "lung": (-600.0, 1500.0),
    "bone": (400.0, 1800.0),
}
DICOM_EXTENSIONS = (".dcm", ".dicom")
#: Extensions of the images PIL reads: such files are never sniffed for a DICOM preamble.
_IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")
_MONOCHROME = ("MONOCHROME1", "MONOCHROME2")
#: What to install for compressed transfer syntaxes pydicom cannot decode alone.
DECODERS = "pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle (or python-gdcm)"


def is_dicom(name):
    """True for a DICOM file: by its extension, or by the ``DICM`` after its preamble."""
    lowered = os.fspath(name).lower()
    if lowered.endswith(DICOM_EXTENSIONS):
        return True
    if lowered.endswith(_IMAGE_EXTENSIONS):
        return False
    try:
        with open(name, "rb") as f:
            head = f.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:] == b"DICM"


def _pydicom():
    try:
        import pydicom
    except ImportError:
        raise ImportError(
            "Reading DICOM files needs pydicom, which is not installed: "
            "pip install 'skimgaug[dicom]' (or pip install pydicom)."
        ) from None
    return pydicom


def _read(name, stop_before_pixels=False):
    pydicom = _pydicom()
    try:
        return pydicom.dcmread(name, stop_before_pixels=stop_before_pixels)
    except (pydicom.errors.InvalidDicomError, EOFError, OSError, ValueError, KeyError) as exc:
        raise ValueError(f"Cannot read DICOM file {name!r}: {exc}") from None


def _check_one_frame(ds, name):
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        raise ValueError(
            f"DICOM file {name!r} holds {frames} frames (a multi-frame image); skimgaug "
            "reads one image per file. Split it into one file per frame (or slice)."
        )


def dicom_header(name):
    """``(height, width, mode)`` from the header, as PIL's for other files (no pixels read).

    ``mode`` is ``"RGB"`` for colour files and ``"I;16"`` (a single channel of
    more than 8 bits, never rounded) for grayscale ones.
    """
    ds = _read(name, stop_before_pixels=True)
    _check_one_frame(ds, name)
    if "Rows" not in ds or "Columns" not in ds:
        raise ValueError(f"DICOM file {name!r} has no image (no Rows and Columns).")
    mode = "RGB" if int(ds.get("SamplesPerPixel", 1)) == 3 else "I;16"
    return int(ds.Rows), int(ds.Columns), mode


def check_window(window, owner="AugmentedKerasClassifier"):
    """``window`` as None, ``"dicom"`` or a ``(center, width)`` tuple of floats (ValueError)."""
    if window is None or (isinstance(window, str) and window == "dicom"):
        return window
    if isinstance(window, str):
        if window in WINDOW_PRESETS:
            return WINDOW_PRESETS[window]
    elif (
        isinstance(window, (tuple, list))
        and len(window) == 2
        and all(
            isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            for v in window
        )
        and all(np.isfinite(v) for v in window)
        and window[1] > 0
    ):
        return (float(window[0]), float(window[1]))
    raise ValueError(
        f"The 'window' parameter of {owner} must be None, a (center, width) pair with width "
        f"> 0, 'dicom' (each file's own Window Center and Width) or a preset among "
        f"{', '.join(map(repr, WINDOW_PRESETS))}. Got {window!r} instead."
    )


def _first(value):
    """The first value of a multi-valued tag (Window Center may hold several)."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return float(value[0])
    return float(value)


def _windowed(values, window, ds, name):
    if window == "dicom":
        if "WindowCenter" not in ds or "WindowWidth" not in ds:
            raise ValueError(
                f"window='dicom' uses each file's Window Center and Width, but DICOM file "
                f"{name!r} has none; give window=(center, width) or a preset."
            )
        window = (_first(ds.WindowCenter), _first(ds.WindowWidth))
    center, width = window
    low = center - width / 2
    return np.clip((values - low) / width, 0.0, 1.0) * 255.0


def _stored_range(ds):
    """The modality values of the lowest and highest stored value the file's bits allow."""
    bits = int(ds.get("BitsStored", ds.get("BitsAllocated", 16)))
    if int(ds.get("PixelRepresentation", 0)) == 1:
        low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    else:
        low, high = 0, 2**bits - 1
    slope = float(ds.get("RescaleSlope", 1) or 1)
    intercept = float(ds.get("RescaleIntercept", 0) or 0)
    ends = sorted((low * slope + intercept, high * slope + intercept))
    return ends[0], ends[1]


def _pixels(ds, name):
    try:
        return ds.pixel_array
    except Exception as exc:  # pydicom raises many kinds for data it cannot decode
        syntax = ds.file_meta.get("TransferSyntaxUID") if "file_meta" in dir(ds) else None
        compressed = syntax is not None and getattr(syntax, "is_compressed", False)
        if compressed:
            raise ValueError(
                f"Cannot decode the pixels of DICOM file {name!r}: its transfer syntax is "
                f"{syntax.name} ({syntax}), which needs a decoder pydicom does not have "
                f"here. Install {DECODERS}. ({type(exc).__name__}: {exc})"
            ) from None
        raise ValueError(f"Cannot decode the pixels of DICOM file {name!r}: {exc}") from None


def read_dicom(name, window=None):
    """The pixel planes of a DICOM file as float64 arrays: one (grayscale) or three (RGB).

    See the module's description for the values.
    """
    from pydicom.pixels import apply_modality_lut, convert_color_space

    ds = _read(name)
    _check_one_frame(ds, name)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    pixels = _pixels(ds, name)
    if photometric in _MONOCHROME:
        if pixels.ndim != 2:
            raise ValueError(
                f"DICOM file {name!r} is {photometric} with pixel data of shape "
                f"{pixels.shape}; expected one 2-D image."
            )
        values = np.asarray(apply_modality_lut(pixels, ds), dtype=np.float64)
        low, high = _stored_range(ds)
        if window is not None:
            values = _windowed(values, window, ds, name)
            if photometric == "MONOCHROME1":  # lowest value white: inverted after windowing
                values = 255.0 - values
        elif photometric == "MONOCHROME1":
            values = (low + high) - values
        return [values]
    if window is not None:
        raise ValueError(
            f"A window applies to grayscale DICOM images; {name!r} is {photometric} (colour). "
            "Give window=None for colour files."
        )
    if photometric.startswith("YBR"):
        pixels = convert_color_space(pixels, photometric, "RGB")
    if pixels.ndim != 3 or pixels.shape[-1] != 3:
        raise ValueError(
            f"DICOM file {name!r} is {photometric} with pixel data of shape {pixels.shape}; "
            "expected one colour image (rows, columns, 3)."
        )
    scale = 255.0 / (2 ** int(ds.get("BitsStored", 8)) - 1)  # 16-bit colour: onto 0-255
    return [pixels[..., c].astype(np.float64) * scale for c in range(3)]


def dicom_tags(paths, keyword):
    """The value of the header tag ``keyword`` (e.g. ``"PatientID"``) of every file, as str.

    Only that tag is read out of each header. Files without it (or with an
    empty value) are named in one ``ValueError``.
    """
    pydicom = _pydicom()
    if pydicom.datadict.tag_for_keyword(keyword) is None:
        raise ValueError(
            f"{keyword!r} is not a DICOM keyword (such as 'PatientID' or "
            "'StudyInstanceUID'); groups='dicom:<keyword>' reads that tag from each file."
        )
    values, missing = [], []
    for path in paths:
        ds = _read(os.fspath(path), stop_before_pixels=True)
        value = ds.get(keyword)
        value = None if value is None else str(value.value if hasattr(value, "value") else value)
        if not value or not value.strip():
            missing.append(os.fspath(path))
        values.append((value or "").strip())
    if missing:
        shown = ", ".join(map(repr, missing[:5])) + (" ..." if len(missing) > 5 else "")
        raise ValueError(
            f"{len(missing)} of {len(values)} DICOM files have no {keyword}: {shown}. Every "
            "file needs its group; fill the tag, or give the groups another way."
        )
    return np.array(values)


def patient_counts(paths):
    """``{PatientID: number of files}`` of the files that carry the tag (only it is read)."""
    from collections import Counter

    counts = Counter()
    for path in paths:
        value = _read(os.fspath(path), stop_before_pixels=True).get("PatientID")
        if value is not None and str(value).strip():
            counts[str(value).strip()] += 1
    return counts
