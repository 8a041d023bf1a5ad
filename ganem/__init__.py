"""GAN-EM benchmark suite: data, methods, scoring and tables for re-running Zhao et al.'s GAN-EM paper."""
__version__ = "0.1.0"
