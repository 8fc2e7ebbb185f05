"""Pictures the project draws itself (plates, for the rendered evaluation set)."""
