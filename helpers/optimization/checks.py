"""The exercise registry of notebook 03 (optimization): self-checks and hidden checks.

The three update rules (``gradient_update``, ``momentum_update``, ``rmsprop_update``) run
through the one ``InPlaceRule`` protocol of ``rules``, on problems rebuilt from each case's
seed, so that every realistic mistake shows in the raw outputs:

- float32 tensors of several shapes (non-square, 1-D, 3-D) under a non-quadratic loss, and
  the four parameters of a tiny network under its classification loss;
- gradients left in ``.grad`` before the first call (an update must clear them first);
- non-zero starting state (random velocities, positive random averages of squared
  gradients), so that a swapped coefficient or a forgotten term shows at once;
- several successive calls, each implementation on its own trajectory, with every parameter
  and every state tensor recorded after every call (state not stored back into the caller's
  tensors, or a stale state used in the update, shows up).

``sample_minibatch`` runs on data whose first feature is the row number. Its batches are
never compared with the reference's (a correct sampler may draw any rows); ``compare``
judges them against the data, rebuilt from the case: shapes, whole rows, inputs aligned with
targets and, over many calls with every random generator seeded from the case, batches that
change from call to call and cover every example about equally often.

Nothing here imports ``helpers.optimization.reference``: the registry names it, and the
grader runs ``run_case`` where that module does not exist.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from helpers.capabilities import OPTIMIZER_STEP, ready_made
from helpers.checking import CheckFailed, check_of, compare_outputs
from helpers.exercise import Case, Exercise, Outputs, Registry, Visible
from helpers.optimization import ASSIGNMENT
from helpers.optimization.updates import InitState, InPlaceRule, State, format_setting, no_state

REFERENCE = "helpers.optimization.reference"
# torch's ready-made optimizers do what the update-rule exercises ask the student to write.
UPDATE_FORBIDS = (OPTIMIZER_STEP,)
# Shapes of the raw parameter tensors of the "tensors" problem: non-square, 1-D and 3-D.
PARAMETER_SHAPES = ((3, 5), (4,), (2, 3, 2))
# Rounding differences between correct ways of writing an update (in place, ``.data``,
# fused ops, ``autograd.grad``) stay far below this many float32 operations' tolerance.
OPERATIONS = 100
CALLS = 4  # successive updates per hidden case

Problem = tuple[dict[str, torch.Tensor], Callable[[Sequence[torch.Tensor]], torch.Tensor]]


@contextmanager
def _seeded_generators(seed: int) -> Iterator[None]:
    """Seed torch's, numpy's and Python's global generators; restore them afterwards.

    The code under test may draw from any of them: seeding makes a case deterministic, and
    restoring leaves the notebook's own random stream as it was.
    """
    numpy_state, python_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(numpy_state)
            random.setstate(python_state)


def _draw_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


# --------------------------------------------------------------------------------------
# Update rules
# --------------------------------------------------------------------------------------


def _tensors_problem(generator: torch.Generator) -> Problem:
    """Raw parameters of several shapes under a non-quadratic loss (gradients change)."""
    params = {
        f"parameter {index} (shape {shape})": torch.randn(shape, generator=generator)
        for index, shape in enumerate(PARAMETER_SHAPES)
    }
    coefficients = [torch.randn(shape, generator=generator) for shape in PARAMETER_SHAPES]

    def loss_of(values: Sequence[torch.Tensor]) -> torch.Tensor:
        terms = [((c * p).sin() + 0.5 * c.abs() * p**2).sum() for p, c in zip(values, coefficients)]
        return torch.stack(terms).sum()

    return params, loss_of


def _network_problem(generator: torch.Generator) -> Problem:
    """A network with one hidden ReLU layer (6 -> 4 -> 3) and its loss on 9 random examples."""
    shapes = {
        "the first layer's weight": (4, 6),
        "the first layer's bias": (4,),
        "the second layer's weight": (3, 4),
        "the second layer's bias": (3,),
    }
    params = {name: 0.5 * torch.randn(shape, generator=generator) for name, shape in shapes.items()}
    inputs = torch.randn(9, 6, generator=generator)
    targets = torch.randint(3, (9,), generator=generator)

    def loss_of(values: Sequence[torch.Tensor]) -> torch.Tensor:
        weight1, bias1, weight2, bias2 = values
        hidden = torch.relu(inputs @ weight1.T + bias1)
        return F.cross_entropy(hidden @ weight2.T + bias2, targets)

    return params, loss_of


def _linear_problem(generator: torch.Generator) -> Problem:
    """The self-check's small example: a linear classifier, 3 features, 2 classes, 4 examples."""
    params = {
        "weight": torch.randn(2, 3, generator=generator),
        "bias": torch.randn(2, generator=generator),
    }
    inputs = torch.randn(4, 3, generator=generator)
    targets = torch.tensor([0, 1, 1, 0])

    def loss_of(values: Sequence[torch.Tensor]) -> torch.Tensor:
        weight, bias = values
        return F.cross_entropy(inputs @ weight.T + bias, targets)

    return params, loss_of


PROBLEMS: dict[str, Callable[[torch.Generator], Problem]] = {
    "tensors": _tensors_problem,
    "network": _network_problem,
    "linear": _linear_problem,
}


def random_velocities(params: Sequence[torch.Tensor]) -> State:
    """Non-zero starting velocities of either sign."""
    return ([torch.randn_like(param) for param in params],)


def random_square_averages(params: Sequence[torch.Tensor]) -> State:
    """Positive starting averages of squared gradients (an average of squares is never < 0)."""
    return ([0.5 * torch.rand_like(param) + 0.01 for param in params],)


def _with_leftover_gradients(values: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Leaf copies whose ``.grad`` holds gradients from earlier work, as after a real step."""
    params = [value.detach().clone().requires_grad_(True) for value in values]
    for param in params:
        param.grad = torch.full_like(param, 0.75)
    return params


def _parameter_key(name: str, call: int, setting: str) -> str:
    return f"{name} after call {call} ({setting})"


def _state_key(state_name: str, name: str, call: int, setting: str) -> str:
    return f"the {state_name} that the caller holds for {name} after call {call} ({setting})"


@dataclass(frozen=True)
class UpdateRuleCheck:
    """How to check one in-place update rule: its state, and the settings it is tried with.

    ``init_state`` gives the (non-zero) state the checks start from and ``state_names`` names
    each of its lists in messages, in the order the update takes them.
    """

    name: str
    init_state: InitState
    state_names: tuple[str, ...]
    settings: tuple[Mapping[str, float], ...]
    self_check_setting: Mapping[str, float]

    def draw_cases(self, rng: np.random.Generator) -> list[Case]:
        """Every setting on both problems, from fresh seeds."""
        return [
            {
                "problem": problem,
                "seed": _draw_seed(rng),
                "hyperparameters": dict(setting),
                "calls": CALLS,
                "operations": OPERATIONS,
            }
            for setting in self.settings
            for problem in ("tensors", "network")
        ]

    def run_case(self, implementation: Any, case: Case) -> Outputs:
        """Every parameter and state tensor after each of ``case["calls"]`` updates."""
        with _seeded_generators(case["seed"]):
            named, loss_of = PROBLEMS[case["problem"]](torch.Generator().manual_seed(case["seed"]))
            rule = InPlaceRule(implementation, self.init_state, case["hyperparameters"])
            params = _with_leftover_gradients(list(named.values()))
            state = rule.init_state(params)
            outputs: Outputs = {}
            for call in range(1, case["calls"] + 1):
                rule.step(loss_of(params), params, state)
                for index, (name, param) in enumerate(zip(named, params)):
                    outputs[_parameter_key(name, call, rule.setting)] = param.detach().clone()
                    for state_name, tensors in zip(self.state_names, state):
                        key = _state_key(state_name, name, call, rule.setting)
                        outputs[key] = tensors[index].detach().clone()
        return outputs

    def compare(self, case: Case, actual: Outputs, expected: Outputs) -> None:
        """Every tensor after every call, in order, with a checklist when one is off."""
        try:
            compare_outputs(actual, expected, size=int(case["operations"]))
        except AssertionError as error:
            raise CheckFailed(
                check_of(error),
                f"{error} Check that `{self.name}` clears the gradients left by earlier calls "
                "before `backward`, follows the formula exactly, and changes the caller's "
                "tensors in place."
            ) from None

    def self_check_cases(self) -> list[Case]:
        """Two updates of a small linear classifier."""
        return [
            {
                "problem": "linear",
                "seed": 2021,
                "hyperparameters": dict(self.self_check_setting),
                "calls": 2,
                "operations": OPERATIONS,
            }
        ]

    def show_first_update(self, case: Case, expected: Outputs, actual: Outputs) -> None:
        """What the first update should give, for the student to compare with."""
        setting = format_setting(case["hyperparameters"])
        state = "".join(f" and a non-zero {state_name}" for state_name in self.state_names)
        print(
            f"Small example: two updates with {setting}, starting from gradients left in "
            f"`.grad`{state}. Expected after the first update:"
        )
        for name in ("weight", "bias"):
            value = expected[_parameter_key(name, 1, setting)].numpy()
            text = " ".join(np.array2string(value, precision=4, separator=", ").split())
            print(f"  {name} = {text}")

    def exercise(self, points: int) -> Exercise:
        return Exercise(
            name=self.name,
            reference=f"{REFERENCE}:{self.name}",
            points=points,
            visible=Visible(
                success=f"Well done: `{self.name}` gives the expected values on this example.",
                cases=self.self_check_cases,
                explain=self.show_first_update,
            ),
            draw_cases=self.draw_cases,
            run_case=self.run_case,
            compare=self.compare,
            forbids=UPDATE_FORBIDS,
        )


GRADIENT_UPDATE = UpdateRuleCheck(
    name="gradient_update",
    init_state=no_state,
    state_names=(),
    settings=({"lr": 0.1}, {"lr": 0.037}),
    self_check_setting={"lr": 0.1},
)
MOMENTUM_UPDATE = UpdateRuleCheck(
    name="momentum_update",
    init_state=random_velocities,
    state_names=("velocity",),
    settings=({"lr": 0.1, "beta": 0.7}, {"lr": 0.023, "beta": 0.95}),
    self_check_setting={"lr": 0.1, "beta": 0.9},
)
RMSPROP_UPDATE = UpdateRuleCheck(
    name="rmsprop_update",
    init_state=random_square_averages,
    state_names=("running average of squared gradients",),
    settings=(
        {"lr": 0.01, "alpha": 0.8, "epsilon": 0.3},
        {"lr": 0.003, "alpha": 0.95, "epsilon": 1e-8},
    ),
    # A large epsilon, so that adding it outside the square root shows (as in the hidden check).
    self_check_setting={"lr": 0.01, "alpha": 0.9, "epsilon": 0.2},
)


# --------------------------------------------------------------------------------------
# momentum_hyperparameters
# --------------------------------------------------------------------------------------

HYPERPARAMETER_NAMES = ("condition_number", "gd_step", "momentum_lr", "momentum_beta")


def _eigenvalues(rng: np.random.Generator, count: int, kappa: float) -> list[float]:
    """``count`` positive eigenvalues spanning a condition number ``kappa``, in random order."""
    largest = float(10 ** rng.uniform(-2, 2))
    inner = [largest / kappa ** float(rng.uniform(0, 1)) for _ in range(count - 2)]
    values = [largest, largest / kappa, *inner]
    return [values[i] for i in rng.permutation(count)]


def draw_hyperparameter_cases(rng: np.random.Generator) -> list[Case]:
    """Unsorted eigenvalues (the largest never first in at least one case), of 2 to 5 values."""
    cases = [
        {"eigenvalues": _eigenvalues(rng, count, kappa), "operations": 10}
        for count, kappa in ((2, 3.8), (3, 100.0), (5, 2500.0), (4, 1.7))
    ]
    cases.append({"eigenvalues": [0.02, 5.0, 0.7], "operations": 10})
    return cases


def run_hyperparameter_case(implementation: Any, case: Case) -> Outputs:
    result = implementation(list(case["eigenvalues"]))
    try:
        values = [float(value) for value in result]
    except (TypeError, ValueError):
        raise TypeError(
            "`momentum_hyperparameters` should return four numbers: "
            "(condition_number, gd_step, momentum_lr, momentum_beta)."
        ) from None
    if len(values) != len(HYPERPARAMETER_NAMES):
        raise TypeError(f"`momentum_hyperparameters` returned {len(values)} numbers, not 4.")
    described = ", ".join(f"{value:.3g}" for value in case["eigenvalues"])
    return {
        f"{name} for eigenvalues [{described}]": np.float64(value)
        for name, value in zip(HYPERPARAMETER_NAMES, values)
    }


def compare_hyperparameter_case(case: Case, actual: Outputs, expected: Outputs) -> None:
    try:
        compare_outputs(actual, expected, size=int(case["operations"]))
    except AssertionError as error:
        raise CheckFailed(
            check_of(error),
            f"{error} Use L = the largest and mu = the smallest eigenvalue (they may come in "
            "any order), kappa = L / mu, and check each formula's squares and square roots."
        ) from None


SELF_CHECK_HYPERPARAMETER_CASE = {"eigenvalues": [4.0, 0.04, 1.0], "operations": 10}


def show_the_condition_number(case: Case, expected: Outputs, actual: Outputs) -> None:
    print(
        f"Eigenvalues {case['eigenvalues']} (in no particular order): the condition number "
        "is 100, so momentum's error factor per step is (10 - 1) / (10 + 1) = 0.82."
    )


# --------------------------------------------------------------------------------------
# sample_minibatch
# --------------------------------------------------------------------------------------


def _indexed_data(case: Case) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs whose first entry is the row number (the rest noise), and scrambled targets.

    Built from the case's seed with a private generator, so that ``compare`` rebuilds
    exactly the data that ``run_case`` sampled from.
    """
    generator = torch.Generator().manual_seed(case["seed"])
    n = case["examples"]
    inputs = torch.randn(n, *case["feature_shape"], generator=generator)
    inputs.view(n, -1)[:, 0] = torch.arange(n, dtype=inputs.dtype)
    if case["float_targets"]:
        targets = torch.randn(n, generator=generator)
    else:
        targets = torch.randperm(n, generator=generator) % 10
    return inputs, targets


def _batch_keys(call: int) -> tuple[str, str]:
    return f"the batch inputs of call {call}", f"the batch targets of call {call}"


def draw_minibatch_cases(rng: np.random.Generator) -> list[Case]:
    """Three shapes of data (one call each), then many small batches for the statistics."""
    shapes = [
        {"examples": 37, "feature_shape": [2, 3], "float_targets": False, "num_points": 10},
        {"examples": 50, "feature_shape": [4], "float_targets": True, "num_points": 50},
        {"examples": 23, "feature_shape": [1, 5, 2], "float_targets": False, "num_points": 1},
    ]
    cases = [
        {**shape, "seed": _draw_seed(rng), "calls": 1, "statistics": False} for shape in shapes
    ]
    statistics = {"examples": 20, "feature_shape": [3], "float_targets": False, "num_points": 5}
    cases.append({**statistics, "seed": _draw_seed(rng), "calls": 400, "statistics": True})
    return cases


def run_minibatch_case(implementation: Any, case: Case) -> Outputs:
    """The batches of ``case["calls"]`` successive calls, every random generator seeded."""
    with _seeded_generators(case["seed"]):
        inputs, targets = _indexed_data(case)
        outputs: Outputs = {}
        for call in range(1, case["calls"] + 1):
            result = implementation(inputs, targets, case["num_points"])
            try:
                batch_inputs, batch_targets = result
            except (TypeError, ValueError):
                raise TypeError(
                    "`sample_minibatch` should return a pair (batch_inputs, batch_targets), "
                    f"got {type(result).__name__}."
                ) from None
            inputs_key, targets_key = _batch_keys(call)
            outputs[inputs_key], outputs[targets_key] = batch_inputs, batch_targets
    return outputs


def _sampled_rows(
    call: int,
    actual: Mapping[str, torch.Tensor],
    data: tuple[torch.Tensor, torch.Tensor],
    case: Case,
) -> torch.Tensor:
    """The row numbers one call sampled, once its shapes, rows and alignment are right."""
    inputs, targets = data
    num_points = case["num_points"]
    for key, whole in zip(_batch_keys(call), data):
        expected_shape = (num_points, *whole.shape[1:])
        if key not in actual:
            raise CheckFailed("batch missing", f"{key[0].upper()}{key[1:]} are missing.")
        if tuple(actual[key].shape) != expected_shape:
            raise CheckFailed(
                "batch of the wrong shape",
                f"{key[0].upper()}{key[1:]} should have shape {expected_shape}, "
                f"got {tuple(actual[key].shape)}."
            )
    inputs_key, targets_key = _batch_keys(call)
    batch_inputs = actual[inputs_key].to(inputs.dtype)
    batch_targets = actual[targets_key].to(targets.dtype)
    rows = batch_inputs.reshape(num_points, -1)[:, 0].round().long()
    in_range = bool(((rows >= 0) & (rows < len(inputs))).all())
    if not in_range or not torch.equal(batch_inputs, inputs[rows]):
        raise CheckFailed(
            "batch inputs not whole rows",
            "The batch inputs should be whole examples (rows) of input_data.",
        )
    if not torch.equal(batch_targets, targets[rows]):
        raise CheckFailed(
            "inputs and targets misaligned",
            "Batch inputs and targets are misaligned: row i of the batch targets should be the "
            "target of the example in row i of the batch inputs."
        )
    return rows


def compare_minibatch_case(case: Case, actual: Outputs, expected: Outputs) -> None:
    """Judge the batches against the data; ``expected`` (the reference's draws) is not used."""
    data = _indexed_data(case)
    rows = [_sampled_rows(call, actual, data, case) for call in range(1, case["calls"] + 1)]
    if not case["statistics"]:
        return
    calls, examples = case["calls"], case["examples"]
    different = len({tuple(r.tolist()) for r in rows})
    if different < calls // 2:
        raise CheckFailed(
            "the same batch every call",
            f"{calls} calls gave only {different} different batches: each call should draw a "
            "new random batch (no fixed seed, no fixed order)."
        )
    counts = torch.bincount(torch.cat(rows), minlength=examples)
    average = calls * case["num_points"] / examples
    if counts.min() < 0.5 * average or counts.max() > 1.5 * average:
        raise CheckFailed(
            "examples not equally likely",
            "Some examples are drawn far more often than others: every example should be "
            "equally likely to be picked (check the range of your random indices)."
        )


SELF_CHECK_MINIBATCH_CASES = [
    {
        "examples": 30,
        "feature_shape": [2, 2],
        "float_targets": False,
        "num_points": 8,
        "seed": 2021,
        "calls": 1,
        "statistics": False,
    },
    {
        "examples": 20,
        "feature_shape": [3],
        "float_targets": False,
        "num_points": 5,
        "seed": 2022,
        "calls": 400,
        "statistics": True,
    },
]


def show_the_sampled_rows(case: Case, expected: Outputs, actual: Outputs) -> None:
    """The examples one batch holds, and its shapes (the statistical cases say nothing)."""
    if not case["statistics"]:
        rows = _sampled_rows(1, actual, _indexed_data(case), case)
        shapes = " and ".join(str(tuple(value.shape)) for value in actual.values())
        print(f"Sampled examples {rows.tolist()}: shapes {shapes}, aligned.")


# The notebook's setup imports: all a solution cell may rely on besides its own cell and the
# earlier exercises' (a layout test keeps this equal to the notebook's setup cells).
SETUP = (
    "import importlib",
    "import sys",
    "import torch",
    "import torch.nn.functional as F",
    "from helpers.data import load_mnist",
    "from helpers.device import set_device, set_seed",
    "from helpers.models import MLP, parameter_count",
    "from helpers.optimization.checks import EXERCISES",
    "from helpers.optimization.landscape import LossSlice, Quadratic, curvature_at, newton_optimum",
    "from helpers.optimization.updates import gradient_descent",
    "from helpers.optimization import checks",
    "from helpers.training import evaluate, load_benchmark, make_loader, plot_training_curves, "
    "split_validation, train_model",
)

EXERCISES = Registry(
    ASSIGNMENT,
    GRADIENT_UPDATE.exercise(points=2),
    MOMENTUM_UPDATE.exercise(points=3),
    Exercise(
        name="momentum_hyperparameters",
        reference=f"{REFERENCE}:momentum_hyperparameters",
        points=1,
        visible=Visible(
            success="Well done: `momentum_hyperparameters` gives the right four numbers on "
            "this example.",
            cases=lambda: [SELF_CHECK_HYPERPARAMETER_CASE],
            explain=show_the_condition_number,
        ),
        draw_cases=draw_hyperparameter_cases,
        run_case=run_hyperparameter_case,
        compare=compare_hyperparameter_case,
        # The landscape helper's Curvature computes exactly these four numbers.
        forbids=(
            ready_made("the course's curvature helper", "helpers.optimization.landscape:Curvature"),
        ),
    ),
    Exercise(
        name="sample_minibatch",
        reference=f"{REFERENCE}:sample_minibatch",
        points=2,
        visible=Visible(
            success="Well done: `sample_minibatch` returns aligned batches of the right shape, "
            "a new one on every call, covering every example about equally often.",
            cases=lambda: SELF_CHECK_MINIBATCH_CASES,
            explain=show_the_sampled_rows,
        ),
        draw_cases=draw_minibatch_cases,
        run_case=run_minibatch_case,
        compare=compare_minibatch_case,
    ),
    RMSPROP_UPDATE.exercise(points=3),
    setup=SETUP,
)
self_check, hidden_check = EXERCISES.self_check, EXERCISES.hidden_check
