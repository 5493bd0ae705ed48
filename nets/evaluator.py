"""The batched network evaluator: the only torch code that search touches.

Search hands it a numpy batch of encoded leaves and gets numpy back::

    logits, values = evaluator.evaluate(states, planes)
    # states [B, S] int64 (ignored here), planes [B, C, H, W] float32
    # -> logits [B, A] float32 (unmasked), values [B] float32 in [-1, 1]

The evaluator owns the device (CUDA when present, else CPU), the compute dtype
(bf16 autocast on CUDA, or fp16 where bf16 is missing; fp32 on CPU), inference
mode and optional ``torch.compile``. It keeps its own copy of the network in
eval mode, so a trainer can keep training the original: search sees new
weights only when ``load_weights`` (or ``set_model``) is called, e.g. once per
generation.
"""

from __future__ import annotations

import copy
import time
from typing import Any, Mapping

import numpy as np
import torch

from nets.model import PolicyValueNet

_DTYPES = {
    "float32": torch.float32, "fp32": torch.float32,
    "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
    "float16": torch.float16, "fp16": torch.float16, "half": torch.float16,
}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> ``cuda`` when available, else ``cpu``; otherwise ``torch.device(device)``.
    Asking for CUDA on a machine without it raises ValueError."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {str(device)!r} asked for, but CUDA is not available here")
        index = resolved.index if resolved.index is not None else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device {str(device)!r} asked for, but only {torch.cuda.device_count()} CUDA device(s) exist"
            )
        resolved = torch.device("cuda", index)
    return resolved


def resolve_dtype(dtype: str | torch.dtype, device: torch.device) -> torch.dtype:
    """Compute dtype: ``"auto"`` -> bf16 on CUDA (fp16 on GPUs without bf16), fp32
    elsewhere; or a name (``"bf16"``, ``"fp16"``, ``"fp32"``, ...) or a torch dtype."""
    if isinstance(dtype, torch.dtype):
        resolved = dtype
    elif dtype == "auto":
        if device.type != "cuda":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    elif dtype in _DTYPES:
        resolved = _DTYPES[dtype]
    else:
        raise ValueError(f"unknown dtype {dtype!r}; use 'auto', 'bf16', 'fp16' or 'fp32'")
    if resolved not in (torch.float32, torch.bfloat16, torch.float16):
        raise ValueError(f"dtype must be float32, bfloat16 or float16, got {resolved}")
    return resolved


class NetworkEvaluator:
    """Evaluates batches of positions with a ``PolicyValueNet``; numpy in, numpy out.

    ``device``: ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a torch.device.
    ``dtype``: ``"auto"`` (bf16/fp16 autocast on CUDA, fp32 on CPU), ``"bf16"``,
    ``"fp16"``, ``"fp32"`` or a torch dtype; anything but fp32 runs under autocast,
    weights stay fp32. ``compile``: wrap the network in ``torch.compile`` (the first
    calls at each new batch size then take seconds).
    """

    needs_planes: bool = True
    """Search must encode planes for this evaluator (networks read planes, not states)."""

    def __init__(
        self,
        model: PolicyValueNet,
        device: str | torch.device = "auto",
        dtype: str | torch.dtype = "auto",
        compile: bool = False,
    ) -> None:
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        self.compile = bool(compile)
        # Pinned host buffers for CUDA transfers, grown on demand and reused:
        # pinning is slow, so it is done once, not per call.
        self._pinned_in: torch.Tensor | None = None
        self._pinned_logits: torch.Tensor | None = None
        self._pinned_values: torch.Tensor | None = None
        self.positions_evaluated = 0
        """Positions evaluated so far (each call adds its batch size B); what benchmarks and
        self-play report as network evaluations."""
        self.seconds_evaluating = 0.0
        """Wall time spent in ``evaluate`` so far (transfers included)."""
        self.set_model(model)

    # -- weights -----------------------------------------------------------

    def set_model(self, model: PolicyValueNet) -> None:
        """Evaluate with (a copy of) ``model`` from now on; its shape may differ
        from the previous one. Recompiles when ``compile`` is on."""
        # Unwrap a torch.compile'd module: copying the compiled wrapper would
        # copy its caches and prefix every weight name with "_orig_mod.".
        model = getattr(model, "_orig_mod", model)
        if not isinstance(model, PolicyValueNet):
            raise TypeError(f"expected a PolicyValueNet, got {type(model).__name__}")
        own = copy.deepcopy(model).place(self.device).eval()
        own.requires_grad_(False)
        for parameter in own.parameters():
            parameter.grad = None  # the trainer's gradients, copied along; search never needs them
        self._model = own
        self._forward = torch.compile(own) if self.compile else own

    def load_weights(self, state_dict: Mapping[str, torch.Tensor]) -> None:
        """Copy new weights (``model.state_dict()`` of the same shape, any device)
        into the evaluator's network in place; a compiled network is not recompiled.
        Raises ValueError when the weights do not fit."""
        try:
            self._model.load_state_dict(state_dict, strict=True)
        except RuntimeError as error:
            # torch's message spans many lines; keep the first, which names the problem.
            first = str(error).strip().splitlines()
            raise ValueError(
                f"weights do not fit the evaluator's {self._model.config} network: "
                + " ".join(line.strip() for line in first[:3])
            ) from error

    @property
    def model(self) -> PolicyValueNet:
        """The evaluator's own copy of the network (eval mode, on ``self.device``)."""
        return self._model

    @property
    def planes_shape(self) -> tuple[int, int, int]:
        """(C, H, W) the network reads (``evaluate`` takes planes with more channels and reads
        the first C)."""
        return self._model.planes_shape

    @property
    def num_actions(self) -> int:
        """A: length of each logits row."""
        return self._model.num_actions

    @property
    def has_score(self) -> bool:
        """Whether the network predicts final score margins (a score head): ``evaluate_scores``."""
        return self._model.score_head is not None

    @property
    def has_ownership(self) -> bool:
        """Whether the network predicts each point's final owner (an ownership head):
        ``evaluate_ownership``."""
        return self._model.ownership_head is not None

    # -- evaluation --------------------------------------------------------

    def evaluate(self, states: np.ndarray | None, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Evaluate a batch of positions.

        ``states`` [B, S] int64 is part of the search's evaluator protocol and is
        ignored (may be None). ``planes`` [B, C', H, W] float32 (other float
        dtypes are converted), C' >= C: the network reads the first C. Returns ``logits`` [B, A] float32 (not masked) and
        ``values`` [B] float32 in [-1, 1] for the side to move; fresh arrays the
        caller may keep. B may be 0.
        """
        planes = np.asarray(planes)
        channels, height, width = self.planes_shape
        if planes.ndim != 4 or planes.shape[1] < channels or planes.shape[2:] != (height, width):
            raise ValueError(
                f"planes must have shape [B, {', '.join(map(str, self.planes_shape))}] "
                f"(or more planes), got {list(planes.shape)}"
            )
        planes = planes[:, :channels]  # a view; the copy to contiguous memory happens once, below
        batch = planes.shape[0]
        started = time.perf_counter()
        try:
            return self._evaluate(planes, batch)
        finally:
            self.positions_evaluated += batch
            self.seconds_evaluating += time.perf_counter() - started

    __call__ = evaluate

    def evaluate_scores(self, states: np.ndarray | None, planes: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``evaluate`` and the score head's final margins ``scores`` [B] float32 (points, for
        the side to move): what a search that tracks scores calls (``BatchedSearch(...,
        scores=True)``, for analysis). Runs the uncompiled network. ValueError without a score head."""
        if not self.has_score:
            raise ValueError(f"the {self._model.config} network has no score head")
        started = time.perf_counter()
        heads = self.evaluate_heads(planes)
        self.positions_evaluated += len(heads["value"])
        self.seconds_evaluating += time.perf_counter() - started
        return heads["policy"], heads["value"], heads["score"]

    def evaluate_ownership(self, planes: np.ndarray) -> np.ndarray:
        """[B, H*W] float32 in [-1, 1]: each point's predicted final owner for the side to move
        (+1 its own) at ``planes`` [B, C, H, W]. ValueError without an ownership head."""
        if not self.has_ownership:
            raise ValueError(f"the {self._model.config} network has no ownership head")
        return np.tanh(self.evaluate_heads(planes)["ownership"])

    def evaluate_heads(self, planes: np.ndarray) -> dict[str, np.ndarray]:
        """Every head's output (``PolicyValueNet.forward_heads``: policy, value and the auxiliary
        heads the network has) for ``planes`` [B, C, H, W], as float32 arrays. For analysis of a
        few positions (ownership maps, score leads); search calls ``evaluate``."""
        planes = torch.from_numpy(np.array(planes, np.float32)).to(self.device)
        with torch.inference_mode(), self._autocast():
            return {name: output.float().cpu().numpy() for name, output in self._model.forward_heads(planes).items()}

    def _evaluate(self, planes: np.ndarray, batch: int) -> tuple[np.ndarray, np.ndarray]:
        if batch == 0:
            # Skip the network: an empty batch is legal for search (every leaf
            # terminal) but some kernels and compiled graphs reject B = 0.
            return (np.zeros((0, self.num_actions), np.float32), np.zeros(0, np.float32))
        planes = np.ascontiguousarray(planes, dtype=np.float32)
        if self.device.type == "cuda":
            return self._evaluate_cuda(planes)
        if not planes.flags.writeable:
            planes = planes.copy()  # torch.from_numpy warns on read-only arrays
        with torch.inference_mode(), self._autocast():
            logits, values = self._forward(torch.from_numpy(planes))
            # .float() is a no-op in fp32 and a cast after bf16/fp16 autocast.
            # The outputs are fresh tensors that only these arrays reference, so
            # handing out views of them is safe without a copy.
            return logits.float().numpy(), values.float().numpy()

    def _evaluate_cuda(self, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        batch = planes.shape[0]
        host_in = self._pinned(planes.shape, "_pinned_in")
        host_in.numpy()[...] = planes
        with torch.inference_mode(), self._autocast():
            # The copy from pinned memory is asynchronous; the stream orders it before the forward.
            logits, values = self._forward(host_in.to(self.device, non_blocking=True))
            host_logits = self._pinned((batch, self.num_actions), "_pinned_logits")
            host_values = self._pinned((batch,), "_pinned_values")
            # Cast on the device (bf16 -> fp32), then one asynchronous copy each.
            host_logits.copy_(logits.float(), non_blocking=True)
            host_values.copy_(values.float(), non_blocking=True)
            # Wait for the device-to-host copies before numpy reads the buffers;
            # the buffers are reused next call, hence the copies out.
            torch.cuda.current_stream(self.device).synchronize()
        return host_logits.numpy().copy(), host_values.numpy().copy()

    def _pinned(self, shape: tuple[int, ...], slot: str) -> torch.Tensor:
        """A pinned float32 host tensor of ``shape``: a view of a buffer kept in
        ``slot`` that grows (by doubling) when a batch is larger than any before."""
        buffer = getattr(self, slot)
        batch, rest = shape[0], shape[1:]
        if buffer is None or buffer.shape[0] < batch or tuple(buffer.shape[1:]) != rest:
            capacity = max(batch, 2 * buffer.shape[0] if buffer is not None else 0)
            # Dropping the old buffer is safe: every call ends with a synchronize,
            # so no copy from or to it is still in flight.
            buffer = torch.empty((capacity, *rest), dtype=torch.float32).pin_memory()
            setattr(self, slot, buffer)
        return buffer[:batch]

    def _autocast(self):
        return torch.autocast(
            device_type=self.device.type, dtype=self.dtype, enabled=self.dtype != torch.float32
        )

    def __repr__(self) -> str:
        return (
            f"NetworkEvaluator({self._model.config}, device={self.device}, "
            f"dtype={str(self.dtype).removeprefix('torch.')}, compile={self.compile})"
        )

    def describe(self) -> dict[str, Any]:
        """Plain dict of the settings, for logs and benchmark output."""
        return {
            "net": self._model.config.name,
            "device": str(self.device),
            "dtype": str(self.dtype).removeprefix("torch."),
            "compile": self.compile,
            "parameters": self._model.num_parameters(),
        }
