"""Accuracy measurements on labelled real data (detection, plates, colours...)."""
