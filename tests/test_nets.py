"""Tests of the nets package: config names, network shapes, the evaluator's
numpy contract, and checkpoint files (round trip, atomic writes, every error)."""

from __future__ import annotations

import ast
import copy
import pathlib
import random

import numpy as np
import pytest
import torch

import engine
import nets
from nets import (
    CheckpointError,
    CheckpointGameError,
    CheckpointNotFoundError,
    CheckpointShapeError,
    CheckpointVersionError,
    CorruptCheckpointError,
    NetConfig,
    NetworkEvaluator,
    NotACheckpointError,
    PolicyValueNet,
    load_checkpoint,
    save_checkpoint,
)

GAMES = ["tictactoe", "connect4"]
# Small towers keep the suite fast; the third has non-default heads.
CONFIGS = [
    NetConfig(blocks=0, channels=8),
    NetConfig(blocks=1, channels=16),
    NetConfig(blocks=2, channels=12, policy_channels=4, value_channels=2, value_hidden=16, reply_channels=3,
              ownership_channels=2, score_hidden=8),
    NetConfig(blocks=3, channels=8, global_pooling=4),
]




def random_planes(spec, batch: int, seed: int = 0) -> np.ndarray:
    """[batch, C, H, W] float32 of 0/1 stones, like the games' encodings."""
    rng = np.random.default_rng(seed)
    return (rng.random((batch, *spec.planes_shape)) < 0.3).astype(np.float32)


def small_net(spec, config: NetConfig | str = "b1c16", seed: int = 0) -> PolicyValueNet:
    torch.manual_seed(seed)
    model = PolicyValueNet.from_spec(spec, config)
    # Give every batch norm non-trivial statistics and scales, so a round trip
    # that dropped buffers or the zero-initialised scales would show.
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
    return model.eval()


# -- NetConfig ----------------------------------------------------------------


@pytest.mark.parametrize("name, blocks, channels", [("b6c64", 6, 64), ("b0c8", 0, 8), ("b20c256", 20, 256)])
def test_config_name_round_trip(name, blocks, channels):
    config = NetConfig.from_name(name)
    assert (config.blocks, config.channels) == (blocks, channels)
    assert config.name == name
    assert NetConfig.from_name(name, value_hidden=32).value_hidden == 32


@pytest.mark.parametrize(
    "bad", ["", "b6", "c64", "b6c", "bc64", "6c64", "b6c64x", "c64b6", "b-1c64", "b6 c64", "B6C64"]
)
def test_config_malformed_name(bad):
    with pytest.raises(ValueError, match=r"malformed network name .*b<blocks>c<channels>.*b6c64"):
        NetConfig.from_name(bad)


def test_config_validation_and_dict():
    with pytest.raises(ValueError, match="channels must be >= 1"):
        NetConfig.from_name("b6c0")
    with pytest.raises(TypeError, match="blocks must be an int"):
        NetConfig(blocks=2.0)
    config = CONFIGS[2]
    assert NetConfig.from_dict(config.to_dict()) == config
    assert str(config).startswith("b2c12 (")
    with pytest.raises(ValueError, match="unknown net config fields"):
        NetConfig.from_dict({"blocks": 1, "widht": 3})


# -- PolicyValueNet and NetworkEvaluator shapes ---------------------------------


@pytest.mark.parametrize("game", GAMES)
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_shapes_and_ranges(game, config):
    spec = engine.get_game(game)
    model = small_net(spec, config)
    evaluator = NetworkEvaluator(model, device="cpu")
    for batch in (0, 1, 17):
        planes = random_planes(spec, batch, seed=batch)
        states = np.zeros((batch, spec.state_size), np.int64)
        logits, values = evaluator.evaluate(states, planes)
        assert logits.shape == (batch, spec.num_actions) and logits.dtype == np.float32
        assert values.shape == (batch,) and values.dtype == np.float32
        assert np.isfinite(logits).all()
        assert ((values >= -1) & (values <= 1)).all()
        if batch:
            with torch.inference_mode():
                ref_logits, ref_values = model(torch.from_numpy(planes))
            np.testing.assert_allclose(logits, ref_logits.numpy(), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(values, ref_values.numpy(), rtol=1e-5, atol=1e-6)


def test_training_mode_forward_and_backward():
    spec = engine.get_game("connect4")
    model = PolicyValueNet.from_spec(spec, "b2c16").train()
    logits, values = model(torch.from_numpy(random_planes(spec, 17)))
    assert logits.shape == (17, 7) and values.shape == (17,)
    (logits.logsumexp(-1).mean() + values.square().mean()).backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("config", CONFIGS)
def test_placing_a_network_on_the_cpu_changes_its_layout_not_what_it_computes_or_learns(config):
    """``place("cpu")`` stores the convolutions channels-last (for speed); every head's output
    and every gradient stay those of torch's default layout (the numbers are summed in
    another order, hence the tolerance)."""
    spec = engine.get_game("connect4")
    plain = small_net(spec, config).train()
    placed = copy.deepcopy(plain).place("cpu")
    assert placed.stem[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert not plain.stem[0].weight.is_contiguous(memory_format=torch.channels_last)
    planes = torch.from_numpy(random_planes(spec, 9))
    outputs = []
    for model in (plain, placed):
        heads = model.forward_heads(planes)
        sum(head.square().mean() for head in heads.values()).backward()
        outputs.append(heads)
    for name, head in outputs[0].items():
        torch.testing.assert_close(outputs[1][name], head, rtol=1e-4, atol=1e-5)
    for (name, weight), moved in zip(plain.named_parameters(), placed.parameters()):
        torch.testing.assert_close(moved.grad, weight.grad, rtol=1e-4, atol=1e-5, msg=name)


def test_reply_head_is_trained_but_not_part_of_inference():
    spec = engine.get_game("connect4")
    plain, with_reply = (small_net(spec, NetConfig(blocks=1, channels=16, reply_channels=channels))
                         for channels in (0, 2))
    assert plain.reply_head is None and str(with_reply.config) == "b1c16 (reply_channels=2)"
    planes = torch.from_numpy(random_planes(spec, 5))
    with_reply.eval()
    heads = with_reply.forward_heads(planes)
    assert sorted(heads) == ["policy", "reply", "value"] and heads["reply"].shape == (5, 7)
    logits, values = with_reply(planes)  # search's forward: the same policy and value
    assert torch.equal(logits, heads["policy"]) and torch.equal(values, heads["value"])
    assert "reply" not in plain.forward_heads(planes)
    # The shared tower is the same module either way: a plain network's weights load into the
    # reply network's tower and heads, the reply head being the only extra.
    missing, unexpected = with_reply.load_state_dict(plain.state_dict(), strict=False)
    assert unexpected == [] and missing and all(key.startswith("reply_head.") for key in missing)


def test_wrong_planes_shape_is_refused():
    spec = engine.get_game("connect4")
    evaluator = NetworkEvaluator(small_net(spec), device="cpu")
    with pytest.raises(ValueError, match=r"planes must have shape \[B, 3, 6, 7\] \(or more planes\), got \[4, 3, 3, 3\]"):
        evaluator.evaluate(None, random_planes(engine.get_game("tictactoe"), 4))


def test_evaluator_accepts_any_float_layout_and_ignores_states():
    spec = engine.get_game("connect4")
    evaluator = NetworkEvaluator(small_net(spec), device="cpu")
    planes = random_planes(spec, 9)
    expected_logits, expected_values = evaluator.evaluate(None, planes)
    # float64, non-contiguous (every other board of a bigger batch) and real states.
    doubled = np.repeat(planes, 2, axis=0).astype(np.float64)[::2]
    states = np.ones((9, spec.state_size), np.int64)
    logits, values = evaluator.evaluate(states, doubled)
    np.testing.assert_array_equal(logits, expected_logits)
    np.testing.assert_array_equal(values, expected_values)
    assert NetworkEvaluator.needs_planes is True


def test_evaluator_owns_a_copy_until_weights_are_loaded():
    spec = engine.get_game("tictactoe")
    model = small_net(spec, seed=0)
    evaluator = NetworkEvaluator(model, device="cpu")
    planes = random_planes(spec, 5)
    before = evaluator.evaluate(None, planes)[0]
    assert evaluator.model is not model and not model.training

    with torch.no_grad():  # "train" the original
        for parameter in model.parameters():
            parameter.add_(0.1)
    np.testing.assert_array_equal(evaluator.evaluate(None, planes)[0], before)

    evaluator.load_weights(model.state_dict())
    after = evaluator.evaluate(None, planes)[0]
    assert not np.array_equal(after, before)
    with torch.inference_mode():
        np.testing.assert_allclose(after, model(torch.from_numpy(planes))[0].numpy(), rtol=1e-5, atol=1e-6)

    with pytest.raises(ValueError, match="weights do not fit the evaluator's b1c16 network"):
        evaluator.load_weights(small_net(spec, "b1c8").state_dict())

    evaluator.set_model(small_net(spec, "b2c8"))
    assert evaluator.model.config.name == "b2c8"
    assert evaluator.evaluate(None, planes)[0].shape == (5, 9)


def test_evaluator_bf16_autocast_on_cpu():
    spec = engine.get_game("connect4")
    model = small_net(spec)
    fp32 = NetworkEvaluator(model, device="cpu")
    bf16 = NetworkEvaluator(model, device="cpu", dtype="bf16")
    assert fp32.dtype == torch.float32 and bf16.dtype == torch.bfloat16
    planes = random_planes(spec, 17)
    logits, values = bf16.evaluate(None, planes)
    assert logits.dtype == np.float32 and values.dtype == np.float32
    assert ((values >= -1) & (values <= 1)).all()
    np.testing.assert_allclose(logits, fp32.evaluate(None, planes)[0], atol=0.1)


def test_device_and_dtype_resolution():
    assert nets.resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert nets.resolve_device("auto").type == expected
    assert nets.resolve_dtype("auto", torch.device("cpu")) == torch.float32
    with pytest.raises(ValueError, match="unknown dtype"):
        nets.resolve_dtype("int8", torch.device("cpu"))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            NetworkEvaluator(small_net(engine.get_game("tictactoe")), device="cuda:1")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_evaluator_on_cuda_matches_cpu():
    spec = engine.get_game("connect4")
    model = small_net(spec)
    cpu = NetworkEvaluator(model, device="cpu")
    gpu = NetworkEvaluator(model)  # auto: CUDA with bf16/fp16 autocast
    assert gpu.device.type == "cuda" and gpu.dtype in (torch.bfloat16, torch.float16)
    for batch in (0, 1, 17, 300, 5):  # growing and shrinking the pinned buffers
        planes = random_planes(spec, batch, seed=batch)
        logits, values = gpu.evaluate(None, planes)
        assert logits.shape == (batch, 7) and values.shape == (batch,)
        if batch:
            np.testing.assert_allclose(logits, cpu.evaluate(None, planes)[0], atol=0.1)


# -- checkpoints ------------------------------------------------------------------


def saved(tmp_path, game="connect4", config="b1c16", **kwargs) -> tuple[pathlib.Path, PolicyValueNet]:
    spec = engine.get_game(game)
    model = small_net(spec, config)
    path = tmp_path / f"{game}.pt"
    save_checkpoint(path, model, game=game, step=kwargs.pop("step", 7), **kwargs)
    return path, model


def one_line_about(error: CheckpointError, path: pathlib.Path) -> str:
    message = str(error)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert error.path == path
    return message


@pytest.mark.parametrize("game", GAMES)
def test_checkpoint_round_trip_is_bit_identical(tmp_path, game):
    spec = engine.get_game(game)
    model = small_net(spec, CONFIGS[2])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(2):  # give the optimizer real state (moments, step counts)
        optimizer.zero_grad()
        logits, values = model(torch.from_numpy(random_planes(spec, 8)))
        (logits.square().mean() + values.mean()).backward()
        optimizer.step()
    model.eval()
    rng = np.random.default_rng(5)
    extra = {
        "python_rng": random.Random(3).getstate(),
        "numpy_rng": rng.bit_generator.state,
        "torch_rng": torch.get_rng_state(),
        "games_played": 1234,
        "note": "gen 3",
    }
    path = tmp_path / "ckpt" / "000042.pt"
    written = save_checkpoint(path, model, game=spec, step=np.int64(42), optimizer=optimizer, extra=extra)
    assert written == path

    checkpoint = load_checkpoint(path, game=game)
    assert (checkpoint.game, checkpoint.step, checkpoint.config) == (game, 42, CONFIGS[2])
    assert checkpoint.format_version == nets.FORMAT_VERSION and checkpoint.path == path
    assert not checkpoint.model.training
    planes = torch.from_numpy(random_planes(spec, 17, seed=9))
    with torch.inference_mode():
        for a, b in zip(model(planes), checkpoint.model(planes)):
            assert torch.equal(a, b)
    for name, tensor in model.state_dict().items():
        assert torch.equal(tensor, checkpoint.model.state_dict()[name]), name

    assert checkpoint.extra["python_rng"] == extra["python_rng"]
    assert checkpoint.extra["numpy_rng"] == extra["numpy_rng"]
    assert torch.equal(checkpoint.extra["torch_rng"], extra["torch_rng"])
    assert checkpoint.extra["games_played"] == 1234
    restored = torch.optim.Adam(checkpoint.model.parameters(), lr=1e-3)
    restored.load_state_dict(checkpoint.optimizer_state)
    for key, state in optimizer.state_dict()["state"].items():
        for name, value in state.items():
            assert torch.equal(value, restored.state_dict()["state"][key][name])


def test_weights_only_checkpoint(tmp_path):
    path, _ = saved(tmp_path, step=0)
    checkpoint = load_checkpoint(path)
    assert checkpoint.optimizer_state is None and checkpoint.extra == {} and checkpoint.step == 0


def test_missing_file(tmp_path):
    path = tmp_path / "nope.pt"
    with pytest.raises(CheckpointNotFoundError) as caught:
        load_checkpoint(path)
    assert "no such checkpoint file" in one_line_about(caught.value, path)
    assert isinstance(caught.value, FileNotFoundError)


def test_truncated_files_are_corrupt(tmp_path):
    path, _ = saved(tmp_path)
    data = path.read_bytes()
    for cut in (0, 3, 100, len(data) // 2, len(data) - 10):
        path.write_bytes(data[:cut])
        with pytest.raises(CorruptCheckpointError) as caught:
            load_checkpoint(path)
        message = one_line_about(caught.value, path)
        assert any(word in message for word in ("truncated", "empty", "corrupt")), message


def test_flipped_byte_is_caught_by_checksum(tmp_path):
    path, _ = saved(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # somewhere in the weights
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptCheckpointError, match="checksum mismatch|corrupt"):
        load_checkpoint(path)


class _Foreign:
    """A class torch.load(weights_only=True) must refuse to rebuild."""


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("text", "not a torch zip archive"),
        ("tensor", "a tensor of shape (3,)"),
        ("state_dict", "a dict with keys ['w']"),
        ("object", "holds Python objects other than plain data"),
        ("directory", "is a directory"),
    ],
)
def test_not_a_checkpoint(tmp_path, kind, expected):
    path = tmp_path / "thing.pt"
    if kind == "text":
        path.write_text("step = 3\nweights = none\n")
    elif kind == "tensor":
        torch.save(torch.zeros(3), path)
    elif kind == "state_dict":
        torch.save({"w": torch.zeros(3)}, path)
    elif kind == "object":
        torch.save({"format": "zeroplay-checkpoint", "x": _Foreign()}, path)
    else:
        path.mkdir()
    with pytest.raises(NotACheckpointError) as caught:
        load_checkpoint(path)
    message = one_line_about(caught.value, path)
    assert expected in message and "not a" in message


def test_wrong_game(tmp_path):
    path, _ = saved(tmp_path, game="tictactoe")
    with pytest.raises(CheckpointGameError) as caught:
        load_checkpoint(path, game="connect4")
    assert one_line_about(caught.value, path).endswith("checkpoint is for tictactoe, not connect4")
    with pytest.raises(CheckpointGameError):
        load_checkpoint(path, game=engine.get_game("connect4"))
    assert load_checkpoint(path, game="tictactoe").game == "tictactoe"


def rewrite(path: pathlib.Path, **changes) -> None:
    """Edit a saved checkpoint's fields (as a buggy or future writer would)."""
    payload = torch.load(path, weights_only=True)
    payload.update(changes)
    torch.save(payload, path)


@pytest.mark.parametrize(
    "version, expected", [(2, "version 2 is newer"), (0, "version 0 is not supported"), (None, "version None")]
)
def test_other_format_version(tmp_path, version, expected):
    path, _ = saved(tmp_path)
    rewrite(path, format_version=version)
    with pytest.raises(CheckpointVersionError) as caught:
        load_checkpoint(path)
    assert expected in one_line_about(caught.value, path)


def test_weights_that_do_not_fit(tmp_path):
    path, _ = saved(tmp_path, config="b1c16")
    rewrite(path, net_config=NetConfig.from_name("b1c8").to_dict())
    with pytest.raises(CheckpointShapeError) as caught:
        load_checkpoint(path)
    message = one_line_about(caught.value, path)
    assert "do not fit the declared b1c8 network for planes (3, 6, 7) and 7 actions" in message
    assert "has shape (16, 3, 3, 3), expected (8, 3, 3, 3)" in message and "more)" in message

    rewrite(path, net_config=NetConfig.from_name("b2c16").to_dict())
    with pytest.raises(CheckpointShapeError, match=r"missing 'tower.1.conv1.weight'"):
        load_checkpoint(path)


def test_malformed_fields(tmp_path):
    path, _ = saved(tmp_path)
    rewrite(path, step="seven")
    with pytest.raises(CorruptCheckpointError, match="malformed field 'step': expected int, found a str"):
        load_checkpoint(path)
    rewrite(path, step=7, net_config={"blocks": 1, "channels": 16, "colour": 1})
    with pytest.raises(CorruptCheckpointError, match="malformed network declaration: unknown net config"):
        load_checkpoint(path)
    rewrite(path, net_config=NetConfig.from_name("b1c16").to_dict())
    payload = torch.load(path, weights_only=True)
    del payload["weights"]
    torch.save(payload, path)
    with pytest.raises(CorruptCheckpointError, match="field 'weights' is missing"):
        load_checkpoint(path)


def test_atomic_write_leaves_only_the_checkpoint(tmp_path, monkeypatch):
    path, model = saved(tmp_path, step=1)
    save_checkpoint(path, model, game="connect4", step=2)  # overwrite in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["connect4.pt"]
    assert load_checkpoint(path).step == 2

    def crash(payload, handle):  # a write that dies half-way
        handle.write(b"PK\x03\x04 half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, model, game="connect4", step=3)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["connect4.pt"]
    assert load_checkpoint(path).step == 2  # the previous checkpoint survives intact


def test_save_refuses_what_cannot_be_loaded(tmp_path):
    spec = engine.get_game("tictactoe")
    model = small_net(spec)
    path = tmp_path / "x.pt"
    with pytest.raises(TypeError, match=r"extra\['rng'\]\[1\] is a numpy.ndarray.*tolist"):
        save_checkpoint(path, model, game="tictactoe", step=1, extra={"rng": ("MT19937", np.zeros(3))})
    with pytest.raises(TypeError, match="numpy.float64"):
        save_checkpoint(path, model, game="tictactoe", step=1, extra={"loss": np.float64(0.5)})
    with pytest.raises(ValueError, match="step must be >= 0"):
        save_checkpoint(path, model, game="tictactoe", step=-1)
    with pytest.raises(TypeError):
        save_checkpoint(path, model, game="tictactoe", step=1.5)
    assert not any(tmp_path.iterdir())


def test_nets_does_not_import_search_selfplay_or_arena():
    forbidden = {"mcts", "selfplay", "arena"}
    for source in pathlib.Path(nets.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not roots & forbidden, f"{source.name} imports {roots & forbidden}"


def test_checkpoint_of_another_encoding_is_refused_when_loading(tmp_path):
    """A network reading planes the game does not encode today (more planes, another board)
    is refused with a clear message, not mid-search."""
    spec = engine.get_game("connect4")
    for planes_shape in [(4, 6, 7), (3, 7, 6)]:
        path = tmp_path / "other.pt"
        save_checkpoint(path, PolicyValueNet(planes_shape, 7, "b1c8"), game="connect4", step=0)
        with pytest.raises(CheckpointShapeError, match=rf"planes \({', '.join(map(str, planes_shape))}\).*"
                                                       r"encoded as planes \(3, 6, 7\)"):
            load_checkpoint(path, game="connect4")
        with pytest.raises(CheckpointShapeError):
            load_checkpoint(path, game=spec)
        assert load_checkpoint(path).model.planes_shape == planes_shape, "without a game, no encoding check"


def test_a_network_from_before_its_game_gained_planes_reads_the_first_ones(tmp_path):
    """go9 gained liberty planes after its 9 planes; a checkpoint of a 9-plane network (which
    declares no input_planes) loads as one that reads the first 9, and evaluates today's planes
    as it evaluated the 9 alone."""
    spec = engine.get_game("go9")
    assert spec.planes_shape == (15, 9, 9)
    torch.manual_seed(0)
    old = PolicyValueNet((9, 9, 9), spec.num_actions, "b1c8").eval()
    path = save_checkpoint(tmp_path / "old.pt", old, game="go9", step=3)
    assert torch.load(path, weights_only=True)["net_config"]["input_planes"] == 0
    loaded = load_checkpoint(path, game="go9")
    assert loaded.config == NetConfig.from_name("b1c8in9") and loaded.config.name == "b1c8in9"
    planes = np.random.default_rng(0).integers(0, 2, (5, *spec.planes_shape)).astype(np.float32)
    logits, values = NetworkEvaluator(loaded.model, device="cpu").evaluate(None, planes)
    with torch.no_grad():
        expected_logits, expected_values = old(torch.from_numpy(planes[:, :9].copy()))
    np.testing.assert_allclose(logits, expected_logits.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(values, expected_values.numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"planes must have shape \[B, 9, 9, 9\]"):
        NetworkEvaluator(loaded.model, device="cpu").evaluate(None, planes[:, :8])


def test_input_planes_name_a_prefix_of_the_games_planes():
    spec = engine.get_game("go9")
    assert NetConfig.from_name("b2c16gp4in9") == NetConfig(blocks=2, channels=16, global_pooling=4, input_planes=9)
    assert PolicyValueNet.from_spec(spec, "b1c8in9").planes_shape == (9, 9, 9)
    assert PolicyValueNet.from_spec(spec, "b1c8in11").planes_shape == (11, 9, 9)
    assert PolicyValueNet.from_spec(spec, "b1c8").planes_shape == (15, 9, 9)
    with pytest.raises(ValueError, match="reads 16 planes, but go9 encodes 15"):
        PolicyValueNet.from_spec(spec, "b1c8in16")
    with pytest.raises(ValueError, match="reads 9 planes, not the 15"):
        PolicyValueNet((15, 9, 9), spec.num_actions, "b1c8in9")


def test_a_widened_network_computes_what_it_did(tmp_path):
    """widen_input gives the planes a network did not read zero weights: on any planes the
    widened network's outputs are the old network's on the first planes."""
    spec = engine.get_game("go9")
    torch.manual_seed(1)
    old = PolicyValueNet.from_spec(spec, "b2c8in9").eval()
    new = PolicyValueNet.from_spec(spec, "b2c8")
    new.load_state_dict(nets.model.widen_input(old.state_dict(), 15))
    new.eval()
    planes = torch.from_numpy(np.random.default_rng(1).integers(0, 2, (4, 15, 9, 9)).astype(np.float32))
    with torch.no_grad():
        for ours, theirs in zip(new(planes), old(planes[:, :9])):
            torch.testing.assert_close(ours, theirs)
    with pytest.raises(ValueError, match="reads 15 planes, more than 9"):
        nets.model.widen_input(new.state_dict(), 9)


def test_global_pooling_lets_every_point_see_the_whole_board():
    """Three blocks of 3x3 convolutions see 7 points away; the corners of a 19x19 board are 18
    apart. With a global pooling block the far corner's ownership changes with a stone in the
    near one; without, it cannot."""
    spec = engine.get_game("go19")
    assert NetConfig.from_name("b3c8gp4") == NetConfig(blocks=3, channels=8, global_pooling=4)
    assert NetConfig.from_name("b3c8gp4").name == "b3c8gp4" and NetConfig(blocks=3, channels=8).name == "b3c8"
    planes = torch.zeros((2, *spec.planes_shape))
    planes[1, 0, 18, 0] = 1.0  # a stone on A1 (bottom left) in the second position only
    for pooled, far_corner_moves in ((0, False), (4, True)):
        torch.manual_seed(0)
        model = PolicyValueNet.from_spec(spec, NetConfig(blocks=3, channels=8, ownership_channels=2,
                                                         global_pooling=pooled)).eval()
        for module in model.modules():  # non-zero last norms, else every block starts as the identity
            if isinstance(module, torch.nn.BatchNorm2d):
                torch.nn.init.uniform_(module.weight, 0.5, 1.5)
        with torch.no_grad():
            ownership = model.forward_heads(planes)["ownership"]
        top_right = 18  # T19: row 0, column 18
        assert bool(ownership[0, top_right] != ownership[1, top_right]) == far_corner_moves
