"""The graded exercises of notebook 04: four rule classes in the course's protocol.

Every check trains a fresh small model (an ``Affine`` map fitted to random data, both drawn
from the case's seed) for several steps through ``setup`` and ``update`` with the student's
rule, and records the raw trajectory: each parameter and each documented state tensor after
every step, one key per tensor. ``compare`` then judges it twice, in the grader's process:
against the reference rule's trajectory, and against ``torch.optim``'s counterpart run on the
same problem. Cases mix small and large ``epsilon`` and weight decay and several
hyperparameters, so that a wrong bias correction, ``epsilon`` inside the square root, a state
not carried forward or a weight decay coupled through Adam's scaling all show.

This module must not import ``reference.py`` (the grader's sandbox hides it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from helpers.capabilities import OPTIMIZER_STEP
from helpers.checking import assert_close, compare_outputs, no_shortcuts
from helpers.exercise import Exercise, Registry
from helpers.rules import ASSIGNMENT
from helpers.rules.affine import Affine, mse_distance
from helpers.rules.protocol import gradients, setup, update

Case = dict[str, Any]
N_EXAMPLES = 12
SELF_CHECK_STEPS = 5

# --------------------------------------------------------------------------------------
# The problem a case describes, and the trajectory of a rule on it
# --------------------------------------------------------------------------------------


def problem(case: Case) -> tuple[nn.Module, Tensor, Tensor]:
    """A fresh ``Affine`` model and random data, all from ``case["seed"]``; inputs are scaled
    by ``case["scale"]`` so that gradients have different sizes in different cases."""
    generator = torch.Generator().manual_seed(case["seed"] + 1)
    inputs = case["scale"] * torch.randn(N_EXAMPLES, 3, generator=generator)
    targets = torch.randn(N_EXAMPLES, 2, generator=generator)
    return Affine(seed=case["seed"]), inputs, targets


def _velocity(state: Any) -> list[tuple[str, Any]]:
    return [("velocity", state)] if isinstance(state, Tensor) else []


def _square_sum(state: Any) -> list[tuple[str, Any]]:
    return [("sum of squared gradients", state)] if isinstance(state, Tensor) else []


def _moments(state: Any) -> list[tuple[str, Any]]:
    if isinstance(state, (tuple, list)) and len(state) == 3:
        m, v, _ = state
        if isinstance(m, Tensor) and isinstance(v, Tensor):
            return [("first moment m", m), ("second moment v", v)]
    return []


def trajectory(
    rule_class: type, case: Case, state_tensors: Callable[[Any], Iterable[tuple[str, Any]]]
) -> dict[str, Tensor]:
    """Train with ``rule_class(**case["hyper"])`` for ``case["steps"]`` steps; return every
    documented state tensor (when the state has the documented layout) and every parameter
    after every step. State keys come first, so that a failure names the earliest cause."""
    model, inputs, targets = problem(case)
    state = setup(rule_class(**case["hyper"]), model)
    outputs: dict[str, Tensor] = {}
    for step in range(1, case["steps"] + 1):
        loss = mse_distance(model(inputs), targets)
        state, model = update(state, model, gradients(loss, model))
        for name, leaf in state.items():
            for label, tensor in state_tensors(leaf.state):
                outputs[f"{label} of {name} after step {step}"] = tensor.detach().clone()
        for name, param in model.named_parameters():
            outputs[f"{name} after step {step}"] = param.detach().clone()
    return outputs


def torch_trajectory(exercise: str, case: Case) -> dict[str, Tensor]:
    """The parameters after every step of ``torch.optim``'s counterpart of ``exercise``."""
    hyper = case["hyper"]
    model, inputs, targets = problem(case)
    params = list(model.parameters())
    if exercise == "Nesterov":
        optimizer = torch.optim.SGD(params, hyper["lr"], momentum=hyper["beta"], nesterov=True)
    elif exercise == "Adagrad":
        optimizer = torch.optim.Adagrad(params, hyper["lr"], eps=hyper["epsilon"])
    else:
        betas = (hyper["beta1"], hyper["beta2"])
        if exercise == "Adam":
            optimizer = torch.optim.Adam(params, hyper["lr"], betas, hyper["epsilon"])
        else:
            optimizer = torch.optim.AdamW(
                params, hyper["lr"], betas, hyper["epsilon"], hyper["weight_decay"]
            )
    outputs = {}
    for step in range(1, case["steps"] + 1):
        optimizer.zero_grad()
        mse_distance(model(inputs), targets).backward()
        optimizer.step()
        for name, param in model.named_parameters():
            outputs[f"{name} after step {step}"] = param.detach().clone()
    return outputs


# --------------------------------------------------------------------------------------
# Judging a trajectory
# --------------------------------------------------------------------------------------

HINTS = {
    "Nesterov": "Check that the new velocity is returned as the state and that the step "
    "looks ahead along the *new* velocity.",
    "Adagrad": "Check that the squared gradients are summed (not averaged) into the state and "
    "that epsilon is added after the square root.",
    "Adam": "Check both moment updates, the bias correction (t is 0 before the first step, "
    "which uses t = 1) and that epsilon is added after the square root of the bias-corrected v.",
    "AdamW": "Check that the weight decay stays out of the moments (it is not added to the "
    "gradient) and is scaled by lr (PyTorch's convention), and the bias correction of Adam.",
}
LAYOUTS = {
    "Nesterov": "the state should be the velocity tensor",
    "Adagrad": "the state should be the tensor of summed squared gradients",
    "Adam": "the state should be a tuple (m, v, t)",
    "AdamW": "the state should be a tuple (m, v, t)",
}


TORCH_BUFFER = (
    "Your state is torch's momentum buffer b = v / lr (b <- beta b + grad), not the velocity: "
    "store v = lr b, which follows v <- beta v + lr grad, and step by beta v_new + lr grad."
)


def _stores_torchs_buffer(case: Case, actual: dict, expected: dict) -> bool:
    """Whether every velocity a Nesterov rule stored is torch's buffer ``v / lr`` (what
    ``torch.optim.SGD`` keeps as ``momentum_buffer``) instead of the velocity ``v``."""
    keys = [key for key in expected if key.startswith("velocity of ")]
    lr = case["hyper"]["lr"]
    try:
        for key in keys:
            assert_close(actual[key], expected[key] / lr, key, size=case["operations"])
    except (AssertionError, KeyError):
        return False
    return bool(keys)


def _describe_case(case: Case) -> str:
    settings = ", ".join(f"{key}={value:.3g}" for key, value in case["hyper"].items())
    return f"({settings}, {case['steps']} steps)"


def make_compare(exercise: str) -> Callable[[Case, dict, dict], None]:
    """Compare with the reference's trajectory, then with ``torch.optim``'s parameters."""

    def compare(case: Case, actual: dict, expected: dict) -> None:
        missing = [key for key in expected if key not in actual]
        if missing:
            raise AssertionError(
                f"`{exercise}` {_describe_case(case)}: {missing[0]} is missing: "
                f"{LAYOUTS[exercise]}."
            )
        try:
            compare_outputs(actual, expected, size=case["operations"])
            for what, value in torch_trajectory(exercise, case).items():
                assert_close(
                    actual[what],
                    value,
                    f"{what} (compared with torch.optim)",
                    size=case["operations"],
                )
        except AssertionError as error:
            hint = HINTS[exercise]
            if exercise == "Nesterov" and _stores_torchs_buffer(case, actual, expected):
                hint = TORCH_BUFFER
            raise AssertionError(f"`{exercise}` {_describe_case(case)}: {error} {hint}") from None

    return compare


# --------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _case(rng: np.random.Generator, hyper: dict[str, float], steps: int) -> Case:
    return {
        "seed": int(rng.integers(2**31)),
        "scale": float(rng.uniform(0.3, 3.0)),
        "steps": steps,
        "hyper": hyper,
        "operations": 40 * steps,  # each step is a few dozen dependent float operations
    }


def draw_nesterov_cases(rng: np.random.Generator) -> list[Case]:
    return [
        _case(rng, {"lr": _log_uniform(rng, 0.005, 0.05), "beta": float(rng.uniform(*b))}, 10)
        for b in ((0.5, 0.8), (0.85, 0.97))
    ]


def draw_adagrad_cases(rng: np.random.Generator) -> list[Case]:
    return [
        _case(rng, {"lr": _log_uniform(rng, 0.02, 0.3), "epsilon": 1e-10}, 10),
        _case(rng, {"lr": _log_uniform(rng, 0.02, 0.3), "epsilon": _log_uniform(rng, 0.1, 1)}, 8),
    ]


def _adam_hyper(rng: np.random.Generator, epsilon: float) -> dict[str, float]:
    return {
        "lr": _log_uniform(rng, 0.01, 0.1),
        "beta1": float(rng.uniform(0.6, 0.95)),
        "beta2": float(rng.uniform(0.8, 0.999)),
        "epsilon": epsilon,
    }


def draw_adam_cases(rng: np.random.Generator) -> list[Case]:
    return [
        _case(rng, _adam_hyper(rng, 1e-8), 10),
        _case(rng, _adam_hyper(rng, _log_uniform(rng, 0.05, 0.5)), 8),
    ]


def draw_adamw_cases(rng: np.random.Generator) -> list[Case]:
    return [
        _case(rng, {**_adam_hyper(rng, 1e-8), "weight_decay": _log_uniform(rng, 0.1, 1)}, 10),
        _case(
            rng,
            {
                **_adam_hyper(rng, _log_uniform(rng, 0.05, 0.5)),
                "weight_decay": _log_uniform(rng, 0.1, 1),
            },
            8,
        ),
    ]


# --------------------------------------------------------------------------------------
# Self-checks: one fixed small case, the same judgement, a friendly line
# --------------------------------------------------------------------------------------

SELF_CHECK_CASES = {
    "Nesterov": {"lr": 0.02, "beta": 0.9},
    "Adagrad": {"lr": 0.1, "epsilon": 0.5},
    "Adam": {"lr": 0.05, "beta1": 0.8, "beta2": 0.9, "epsilon": 0.1},
    "AdamW": {"lr": 0.05, "beta1": 0.8, "beta2": 0.9, "epsilon": 0.1, "weight_decay": 0.5},
}


def make_self_check(exercise: str) -> Callable[[Any, Any], None]:
    def self_check(implementation: Any, reference: Any) -> None:
        case = {
            "seed": 4,
            "scale": 1.5,
            "steps": SELF_CHECK_STEPS,
            "hyper": SELF_CHECK_CASES[exercise],
            "operations": 40 * SELF_CHECK_STEPS,
        }
        checked = EXERCISES[exercise]
        expected = checked.run_case(reference, case)
        # The same guard as the hidden check: torch.optim gives the right numbers but no points.
        with no_shortcuts(exercise, *checked.forbidden):
            outputs = checked.run_case(implementation, case)
        make_compare(exercise)(case, outputs, expected)
        print(
            f"Your `{exercise}` takes the same {SELF_CHECK_STEPS} steps as the reference and "
            f"as torch.optim on a small problem {_describe_case(case)}. The grader tries more."
        )

    return self_check


def _run(state_tensors: Callable[[Any], Iterable[tuple[str, Any]]]) -> Callable:
    def run_case(implementation: Any, case: Case) -> dict[str, Tensor]:
        return trajectory(implementation, case, state_tensors)

    return run_case


def _exercise(name: str, points: int, draw: Callable, state_tensors: Callable) -> Exercise:
    return Exercise(
        name=name,
        reference=f"helpers.rules.reference:{name}",
        points=points,
        self_check=make_self_check(name),
        draw_cases=draw,
        run_case=_run(state_tensors),
        compare=make_compare(name),
        forbids=(OPTIMIZER_STEP,),
    )


# The notebook's setup imports: all a solution cell may rely on besides its own cell and the
# earlier exercises' (a layout test keeps this equal to the notebook's setup cells).
SETUP = (
    "import importlib",
    "import sys",
    "import inspect",
    "import torch",
    "from torch import nn",
    "from helpers.device import set_device, set_seed",
    "from helpers.rules.affine import Affine, affine_data, fit, mse_distance",
    "from helpers.rules.checks import EXERCISES",
    "from helpers.rules.protocol import ClipNorm, Descent, Momentum, Rule, WeightDecay, adjust,"
    " chain, freeze, gradients, setup, thaw, update, update_",
    "from helpers.rules.schedules import cosine_decay, warmup",
    "from helpers.rules import checks",
)

EXERCISES = Registry(
    ASSIGNMENT,
    _exercise("Nesterov", 2, draw_nesterov_cases, _velocity),
    _exercise("Adagrad", 2, draw_adagrad_cases, _square_sum),
    _exercise("Adam", 3, draw_adam_cases, _moments),
    _exercise("AdamW", 3, draw_adamw_cases, _moments),
    setup=SETUP,
)
self_check, hidden_check = EXERCISES.self_check, EXERCISES.hidden_check
