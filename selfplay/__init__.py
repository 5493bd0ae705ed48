"""Self-play actors, replay buffer, trainer, supervised bootstrap and the training loop."""
