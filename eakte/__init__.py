"""E-Akte Bau: multi-tenant electronic case file for building permits."""

__version__ = "0.1.0"
