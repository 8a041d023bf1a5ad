"""The error a wrong configuration value raises, importable by every module without import cycles."""


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the key and the fix."""
