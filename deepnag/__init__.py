"""DeepNAG: deep non-adversarial gesture generation (IUI 2021), reimplemented."""

__version__ = "0.1.0"
