"""Torch policy/value networks, the batched evaluator (numpy in, numpy out) and checkpoint files."""
