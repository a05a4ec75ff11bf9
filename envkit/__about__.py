"""The version of envkit, read by the build backend and by ``envkit --version``."""

__version__ = "0.1.0"
