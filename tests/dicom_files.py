"""Small DICOM files written with pydicom for the tests (no data set is downloaded)."""

import numpy as np


def write_dicom(
    path,
    pixels,
    *,
    photometric="MONOCHROME2",
    slope=1.0,
    intercept=0.0,
    signed=False,
    bits=16,
    patient_id="P1",
    patient_name="DOE^JANE",
    window=None,
    frames=1,
    extra=None,
):
    """Write ``pixels`` (2-D, or (rows, cols, 3) for RGB) as a DICOM file at ``path``."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"  # CT Image Storage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    if patient_id is not None:
        ds.PatientID = patient_id
    ds.PatientName = patient_name
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    pixels = np.asarray(pixels)
    color = pixels.ndim == 3
    ds.Rows, ds.Columns = pixels.shape[:2]
    ds.SamplesPerPixel = 3 if color else 1
    ds.PhotometricInterpretation = photometric
    if color:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 1 if signed else 0
    if not color:
        ds.RescaleSlope = slope
        ds.RescaleIntercept = intercept
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    dtype = {8: np.uint8, 16: np.int16 if signed else np.uint16}[bits]
    data = np.ascontiguousarray(pixels, dtype=dtype)
    if frames > 1:
        ds.NumberOfFrames = frames
        data = np.ascontiguousarray(np.stack([data] * frames))
    ds.PixelData = data.tobytes()
    for key, value in (extra or {}).items():
        setattr(ds, key, value)
    ds.save_as(path, enforce_file_format=True)
    return path
