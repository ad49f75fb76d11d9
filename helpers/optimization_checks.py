"""Self-checks and autograder checks for the exercises of notebook 03 (optimization).

The notebook's test cells call these so that each cell stays short and every exercise is
checked the same way:

- ``self_check_*`` (visible part): one small seeded example; prints what the reference gives
  so that students can compare, then one friendly line when their answer matches.
- ``check_*`` (hidden part): fresh random problems of several shapes and hyperparameters,
  several successive calls (so state that is not stored back, stale state or gradients that
  are not cleared show up), comparing parameters *and* state tensors with the reference after
  every call. Only the student's call runs inside ``no_shortcuts``; the reference runs outside.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from helpers.grading import assert_close, no_shortcuts
from helpers.models import MLP

UpdateFn = Callable[..., None]
# Shapes of the raw parameter tensors in the hidden tests: non-square, 1-D and 3-D.
PARAMETER_SHAPES = [(3, 5), (4,), (2, 3, 2)]
# Rounding differences between correct ways of writing an update (in place, ``.data``,
# fused ops) stay far below this many float32 operations' worth of tolerance.
OPERATIONS = 100


def _state_for(params: Sequence[torch.Tensor], kind: str | None) -> list[torch.Tensor] | None:
    """Initial optimizer state: random velocities, or random positive squared-gradient averages.

    Non-zero starting state makes a swapped coefficient or a forgotten term visible at once.
    """
    if kind is None:
        return None
    if kind == "velocity":
        return [torch.randn_like(p) for p in params]
    if kind == "square_avg":
        return [0.5 * torch.rand_like(p) + 0.01 for p in params]
    raise ValueError(f"Unknown state kind {kind!r}: use None, 'velocity' or 'square_avg'.")


def _state_kind(reference: UpdateFn) -> str | None:
    return {"momentum_update": "velocity", "rmsprop_update": "square_avg"}.get(reference.__name__)


def _tensor_problem() -> tuple[list[torch.Tensor], Callable[[list[torch.Tensor]], torch.Tensor]]:
    """Raw float32 parameters of several shapes and a non-quadratic loss of them."""
    params = [torch.randn(shape) for shape in PARAMETER_SHAPES]
    coefficients = [torch.randn(shape) for shape in PARAMETER_SHAPES]

    def loss_of(values: list[torch.Tensor]) -> torch.Tensor:
        terms = [((c * p).sin() + 0.5 * c.abs() * p**2).sum() for p, c in zip(values, coefficients)]
        return torch.stack(terms).sum()

    return params, loss_of


def _model_problem() -> tuple[list[torch.Tensor], Callable[[list[torch.Tensor]], torch.Tensor]]:
    """The parameters of a tiny fresh MLP and its classification loss on random data."""
    model = MLP(in_dim=6, out_dim=3, hidden_dims=[4])
    inputs, targets = torch.randn(9, 6), torch.randint(3, (9,))
    names = [name for name, _ in model.named_parameters()]
    params = [p.detach().clone() for p in model.parameters()]

    def loss_of(values: list[torch.Tensor]) -> torch.Tensor:
        output = torch.func.functional_call(model, dict(zip(names, values)), (inputs,))
        return F.nll_loss(output, targets)

    return params, loss_of


def _leaf_copies(params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    copies = [p.detach().clone().requires_grad_(True) for p in params]
    for copy in copies:
        # Gradients left over from earlier work: an update must clear them before backward.
        copy.grad = torch.full_like(copy, 0.75)
    return copies


def _call(update: UpdateFn, loss: torch.Tensor, params, state, hyperparameters: dict) -> None:
    if state is None:
        update(loss, params, **hyperparameters)
    else:
        update(loss, params, state, **hyperparameters)


def _run_and_compare(
    student: UpdateFn,
    reference: UpdateFn,
    problem: tuple[list[torch.Tensor], Callable],
    hyperparameters: dict,
    calls: int,
) -> None:
    exercise = reference.__name__
    start, loss_of = problem
    kind = _state_kind(reference)
    theirs, ours = _leaf_copies(start), _leaf_copies(start)
    initial_state = _state_for(start, kind)
    their_state = None if initial_state is None else [s.clone() for s in initial_state]
    our_state = None if initial_state is None else [s.clone() for s in initial_state]
    state_name = {"velocity": "velocity", "square_avg": "running average of squared gradients"}
    setting = ", ".join(f"{key}={value}" for key, value in hyperparameters.items())
    for call in range(1, calls + 1):
        loss = loss_of(theirs)
        with no_shortcuts(exercise, reference, torch.optim):
            _call(student, loss, theirs, their_state, hyperparameters)
        _call(reference, loss_of(ours), ours, our_state, hyperparameters)
        for index, (mine, right) in enumerate(zip(theirs, ours)):
            where = (
                f"after call {call} ({setting}), parameter {index} of shape {tuple(right.shape)}"
            )
            assert_close(mine, right, f"The parameter {where}", size=OPERATIONS)
            if our_state is not None:
                assert_close(
                    their_state[index],
                    our_state[index],
                    f"The {state_name[kind]} tensor {where} (update it in place, in the "
                    "caller's tensor)",
                    size=OPERATIONS,
                )


def check_update_rule(
    student: UpdateFn, reference: UpdateFn, settings: Sequence[dict], calls: int = 4
) -> None:
    """Compare ``student`` with ``reference`` on fresh problems, for each hyperparameter dict."""
    for hyperparameters in settings:
        for make_problem in (_tensor_problem, _model_problem):
            _run_and_compare(student, reference, make_problem(), hyperparameters, calls)


def self_check_update_rule(
    student: UpdateFn, reference: UpdateFn, **hyperparameters: float
) -> None:
    """One update on a small seeded example; prints the expected values, then checks."""
    generator = torch.Generator().manual_seed(2021)
    weight = torch.randn(2, 3, generator=generator)
    bias = torch.randn(2, generator=generator)
    inputs = torch.randn(4, 3, generator=generator)
    targets = torch.tensor([0, 1, 1, 0])
    kind = _state_kind(reference)
    state = None
    if kind is not None:
        state = [torch.full_like(weight, 0.1), torch.full_like(bias, 0.1)]

    def run(update: UpdateFn) -> tuple[list[torch.Tensor], list[torch.Tensor] | None]:
        params = [weight.clone().requires_grad_(True), bias.clone().requires_grad_(True)]
        copy = None if state is None else [s.clone() for s in state]
        loss = F.cross_entropy(inputs @ params[0].T + params[1], targets)
        _call(update, loss, params, copy, hyperparameters)
        return params, copy

    expected, expected_state = run(reference)
    setting = ", ".join(f"{key}={value}" for key, value in hyperparameters.items())
    print(f"Small example, one update with {setting}. Expected afterwards:")
    for name, value in zip(["weight", "bias"], expected):
        text = np.array2string(value.detach().numpy(), precision=4, separator=", ")
        text = " ".join(text.split())  # one line per tensor
        print(f"  {name} = {text}")
    with no_shortcuts(reference.__name__, reference, torch.optim):
        params, new_state = run(student)
    for name, mine, right in zip(["weight", "bias"], params, expected):
        assert_close(mine, right, f"The {name} after one update", size=OPERATIONS)
    if expected_state is not None:
        for name, mine, right in zip(["weight", "bias"], new_state, expected_state):
            assert_close(
                mine, right, f"The state tensor of the {name} after one update", size=OPERATIONS
            )
    print(f"Well done: `{reference.__name__}` gives the expected values on this example.")


# --------------------------------------------------------------------------------------
# sample_minibatch
# --------------------------------------------------------------------------------------


def _indexed_data(n: int, feature_shape: tuple[int, ...], float_targets: bool) -> tuple:
    """Inputs whose first entry is the row number (the rest noise); scrambled targets."""
    inputs = torch.randn(n, *feature_shape)
    inputs.view(n, -1)[:, 0] = torch.arange(n, dtype=inputs.dtype)
    targets = torch.randn(n) if float_targets else torch.randperm(n) % 10
    return inputs, targets


def _rows_of(student, inputs, targets, num_points, exercise, reference) -> torch.Tensor:
    """Call the student's sampler, check shapes and alignment, return the sampled row numbers."""
    with no_shortcuts(exercise, reference):
        result = student(inputs, targets, num_points)
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError(f"`{exercise}` should return a tuple (batch_inputs, batch_targets).")
    batch_inputs, batch_targets = result
    for what, batch, data in [
        ("inputs", batch_inputs, inputs),
        ("targets", batch_targets, targets),
    ]:
        expected_shape = (num_points, *data.shape[1:])
        if not isinstance(batch, torch.Tensor) or tuple(batch.shape) != expected_shape:
            shape = tuple(batch.shape) if isinstance(batch, torch.Tensor) else type(batch).__name__
            raise AssertionError(
                f"The batch {what} should have shape {expected_shape}, got {shape}."
            )
    rows = batch_inputs.reshape(num_points, -1)[:, 0].round().long()
    if rows.min() < 0 or rows.max() >= len(inputs) or not torch.equal(batch_inputs, inputs[rows]):
        raise AssertionError("The batch inputs should be whole examples (rows) of input_data.")
    if not torch.equal(batch_targets, targets[rows]):
        raise AssertionError(
            "Batch inputs and targets are misaligned: row i of the batch targets should be the "
            "target of the example in row i of the batch inputs."
        )
    return rows


def check_sample_minibatch(student: Callable, reference: Callable) -> None:
    """Shapes, alignment, freshness across calls and uniform coverage of the examples."""
    exercise = reference.__name__
    for n, feature_shape, float_targets, num_points in [
        (37, (2, 3), False, 10),
        (50, (4,), True, 50),
        (23, (1, 5, 2), False, 1),
    ]:
        inputs, targets = _indexed_data(n, feature_shape, float_targets)
        _rows_of(student, inputs, targets, num_points, exercise, reference)
    # Seed every generator a student may use, so that this check is deterministic for a
    # correct sampler; a sampler that reseeds itself or is not random still fails it.
    torch.manual_seed(12345)
    np.random.seed(12345)
    random.seed(12345)
    n, draws, batch = 20, 400, 5
    inputs, targets = _indexed_data(n, (3,), False)
    counts = torch.zeros(n)
    batches = set()
    for _ in range(draws):
        rows = _rows_of(student, inputs, targets, batch, exercise, reference)
        counts += torch.bincount(rows, minlength=n)
        batches.add(tuple(rows.tolist()))
    if len(batches) < draws // 2:
        raise AssertionError(
            f"{draws} calls gave only {len(batches)} different batches: each call should draw a "
            "new random batch (no fixed seed, no fixed order)."
        )
    expected = draws * batch / n
    if counts.min() < 0.5 * expected or counts.max() > 1.5 * expected:
        raise AssertionError(
            "Some examples are drawn far more often than others: every example should be "
            "equally likely to be picked (check the range of your random indices)."
        )


def self_check_sample_minibatch(student: Callable, reference: Callable) -> None:
    """A small seeded data set: shapes and alignment of one batch."""
    generator = torch.Generator().manual_seed(2021)
    inputs = torch.arange(30.0).reshape(30, 1, 1) * torch.ones(30, 2, 2)
    targets = torch.randint(10, (30,), generator=generator)
    rows = _rows_of(student, inputs, targets, 8, reference.__name__, reference)
    print(f"Sampled examples {rows.tolist()}: shapes (8, 2, 2) and (8,), aligned.")
    print(f"Well done: `{reference.__name__}` returns aligned batches of the right shape.")
