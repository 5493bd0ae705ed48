"""Players, matches, Elo ratings, SPRT, tournaments and terminal play.

Modules, one job each:

- ``specs``: player-spec strings (``random``, ``mcts:sims=1000``, ``solver``,
  ``net:PATH,sims=800``, ``human``, ``gtp:"COMMAND"``) parsed and checked.
- ``players``: batched players built from specs (states [B, S] -> actions [B]).
- ``match``: ``play_match``, many games at once, colours alternated, paired openings.
- ``records``: finished games as JSON lines.
- ``elo``: Elo from a score with a 95% interval; maximum likelihood ratings.
- ``sprt``: the sequential probability ratio test used for gating.
- ``tournament`` and ``ladder``: round robins and the checkpoints of a run.
- ``board`` and ``play``: the terminal board and play against the bot.
- ``cli``: the ``arena`` command.

``arena`` never trains: it only loads checkpoints and plays them.
"""

from arena.elo import EloEstimate, Ratings, elo_estimate, elo_from_score, expected_score, fit_ratings
from arena.match import MatchResult, play_match
from arena.players import Analysis, Decisions, Player, QuitGame, make_player
from arena.records import GameLog, MatchGame, read_games
from arena.specs import PlayerSpec, PlayerSpecError, parse_player_spec
from arena.sprt import SPRT, log_likelihood_ratio

__all__ = [
    "EloEstimate", "Ratings", "elo_estimate", "elo_from_score", "expected_score", "fit_ratings",
    "MatchResult", "play_match", "Analysis", "Decisions", "Player", "QuitGame", "make_player",
    "GameLog", "MatchGame", "read_games", "PlayerSpec", "PlayerSpecError", "parse_player_spec",
    "SPRT", "log_likelihood_ratio",
]
