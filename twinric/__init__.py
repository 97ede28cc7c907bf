"""The twinric command line: parses commands and orchestrates the other packages' processes."""

__version__ = "0.1.0"
