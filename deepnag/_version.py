"""The package version, in one place (read by the package metadata and written into checkpoints)."""

__version__ = "0.1.0"
