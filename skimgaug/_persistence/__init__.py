"""Saving and loading fitted estimators as folders, without pickle."""
