"""exgen: backpropagation homework sheets and worked, verified solution keys."""

__version__ = "0.1.0"
