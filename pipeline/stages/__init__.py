"""The per-call stages and their sequence."""
