"""Draw the preview images of docs/user_guide/augmentations.md (one PNG per transform).

Run from the repository root after changing a transform::

    python docs/make_augmentation_previews.py

Images: two 64x64 crops of scikit-learn's bundled sample photos; each row
shows the original, then five training-batch draws (``plot_augmentations``
with the ``augment`` setting named in the file). MixUp and CutMix, which mix
different images of a batch, get a figure of their own.
"""

import os

import numpy as np
from matplotlib.figure import Figure
from sklearn.datasets import load_sample_images

from skimgaug import save_augmentation_preview
from skimgaug._augment._mixing import mix_batch

OUT = os.path.join(os.path.dirname(__file__), "_static", "augmentations")

SETTINGS = {
    "rand_augment": {"rand_augment_ops": 2, "rand_augment_magnitude": 0.5},
    "trivial_augment": {"trivial_augment": True},
    "erasing": {"erasing_probability": 1.0},
    "elastic": {"elastic_alpha": 4.0, "elastic_sigma": 2.0},
    "gamma": {"gamma_range": (0.5, 2.0)},
    "contrast": {"contrast_range": (0.4, 1.6)},
    "saturation": {"saturation_range": (0.0, 2.0)},
    "hue": {"hue_range": (-0.2, 0.2)},
    "noise": {"gaussian_noise_std": 0.08, "rescale": 1 / 255},
    "blur": {"blur_sigma_range": (0.5, 2.0)},
    "clahe": {"clahe_clip_limit": 3.0, "clahe_probability": 1.0},
}


def crops(size=64, corners=((0, 60, 180), (1, 40, 120))):
    """``size`` x ``size`` RGB crops (uint8) of the sample photos, downscaled.

    ``corners``: ``(photo, top, left)`` of each 256-pixel square.
    """
    import cv2

    photos = load_sample_images().images
    out = []
    for photo, top, left in corners:
        crop = photos[photo][top : top + 256, left : left + 256]
        out.append(cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA))
    return np.stack(out)


def mixing_figure(images, path, **alphas):
    """A batch of four images, then three mixed batches (one draw of lambda per batch)."""
    batch = images.astype(np.float32)
    targets = np.eye(len(batch), dtype=np.float32)
    rows = []
    for seed in range(3):
        mixed, _, _ = mix_batch(
            batch.copy(), targets, None, np.random.RandomState(seed), **alphas, probability=1.0
        )
        rows.append(mixed)
    figure = Figure(figsize=(1.25 * 4, 1.25 * len(images) + 0.4))
    figure.suptitle(
        ", ".join(f"{k}={v:g}" for k, v in alphas.items() if v)
        + ": a batch (left), then three mixed batches (targets mixed alike)",
        fontsize=8,
    )
    for r, image in enumerate(images):
        axes = figure.add_subplot(len(images), 4, r * 4 + 1)
        axes.imshow(image.astype(np.uint8))
        axes.set_axis_off()
        for c in range(3):
            axes = figure.add_subplot(len(images), 4, r * 4 + c + 2)
            axes.imshow(np.clip(rows[c][r], 0, 255).astype(np.uint8))
            axes.set_axis_off()
    figure.savefig(path, dpi=100, format="png")


def main():
    os.makedirs(OUT, exist_ok=True)
    images = crops()
    for name, setting in SETTINGS.items():
        setting = dict(setting)
        datagen = {"rescale": setting.pop("rescale")} if "rescale" in setting else None
        save_augmentation_preview(
            images,
            datagen,
            os.path.join(OUT, f"{name}.png"),
            augment=setting,
            n=5,
            images=2,
            random_state=0,
        )
    four = crops(corners=((0, 60, 180), (1, 40, 120), (0, 150, 300), (1, 150, 260)))
    mixing_figure(four, os.path.join(OUT, "mixup.png"), mixup_alpha=1.0, cutmix_alpha=0.0)
    mixing_figure(four, os.path.join(OUT, "cutmix.png"), mixup_alpha=0.0, cutmix_alpha=1.0)
    print(f"wrote {len(SETTINGS) + 2} previews to {OUT}")


if __name__ == "__main__":
    main()
