"""Players, matches, Elo ratings, terminal play and the GTP engine."""
