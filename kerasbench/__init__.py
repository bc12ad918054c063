"""kerasbench: compare Keras backends on models, machines and settings, honestly."""

__version__ = "0.1.0"
