"""Engine ops, one module per family; each primitive's forward and backward sit side by side."""
