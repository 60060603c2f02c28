"""valuelib: the shared package behind valuereview's quarterly value reviews."""

__version__ = "0.1.0"
