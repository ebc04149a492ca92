"""The runs behind ``skimgaug cv`` and ``skimgaug search``, and their progress lines."""
