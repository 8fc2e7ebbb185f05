"""relecture: offline forensic search of recorded CCTV archives for vehicles."""

__version__ = "0.1.0"
