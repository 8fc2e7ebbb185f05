"""Every model relecture uses, declared in one place (`registry.py`) and loaded lazily."""
