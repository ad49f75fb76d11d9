"""The graded exercises of notebook 01 and their checks.

- ``cubic_gradients(x, y, a, b, c, d)``: the four hand-derived gradients of the summed squared
  error, as floats;
- ``LegendrePolynomial3``: an autograd Function whose ``backward`` the student writes;
- ``fit_polynomial(model, x, y, optimizer, steps)``: the canonical training loop, returning
  the loss of every step.

Hidden cases are drawn fresh on every run; ``run_case`` rebuilds each problem from its seed
and returns raw outputs only. The compare functions, run where no student code runs, turn a
mismatch into a hint about the likely mistake (a mean instead of a sum, a missing factor 2,
an ignored ``grad_output``, gradients not cleared) without showing any expected number. The
self-checks run the same kind of cases on fixed seeds, so they catch what the hidden checks
catch. This module never imports ``reference`` (the grading sandbox does not have it).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from helpers.basics import ASSIGNMENT
from helpers.basics.autograd_function import FunctionContext, forward_backward
from helpers.basics.optimizers import PlainRMSprop, PlainSGD
from helpers.basics.polynomial import (
    Polynomial3,
    cubic_features,
    largest_stable_lr,
    linear_cubic_model,
)
from helpers.capabilities import AUTOMATIC_DIFFERENTIATION, Capability
from helpers.checking import assert_close, no_shortcuts
from helpers.exercise import Case, Exercise, Outputs, Registry, as_tensors

SELF_CHECK_SEED = 101
REFERENCE = "helpers.basics.reference"

# --------------------------------------------------------------------------------------
# Shared: self-checks run the hidden kind of cases on fixed seeds
# --------------------------------------------------------------------------------------


def _self_check(
    name: str,
    draw_cases: Callable[[np.random.Generator], list[Case]],
    run_case: Callable[[Any, Case], Outputs],
    compare: Callable[[Case, Outputs, Outputs], None],
    forbids: tuple[Capability, ...],
    extra: Callable[[Any], None] | None = None,
    success: str = "",
) -> Callable[[Any, Any], None]:
    """A visible check: the hidden kind of cases on fixed seeds, with the same messages."""

    def check(implementation: Any, reference: Any) -> None:
        for case in draw_cases(np.random.default_rng(SELF_CHECK_SEED)):
            expected = as_tensors(run_case(reference, case))
            try:
                with no_shortcuts(name, REFERENCE, *forbids):
                    outputs = run_case(implementation, case)
                actual = as_tensors(outputs)
            except (NotImplementedError, NameError, AssertionError):
                raise
            except Exception as error:  # a crash deserves a message, not a traceback maze
                raise AssertionError(
                    f"`{name}` raised {type(error).__name__}: {error}"
                ) from error
            compare(case, actual, expected)
        if extra is not None:
            extra(implementation)
        print(f"`{name}` passes the visible checks. {success}".rstrip())

    return check


def _close(actual: torch.Tensor, expected: torch.Tensor, what: str, size: int) -> bool:
    try:
        assert_close(actual, expected, what, size=size)
    except AssertionError:
        return False
    return True


# --------------------------------------------------------------------------------------
# Exercise 1: cubic_gradients
# --------------------------------------------------------------------------------------

CUBIC_NAMES = ("grad_a", "grad_b", "grad_c", "grad_d")


def draw_cubic_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for _ in range(3):
        points = int(rng.integers(50, 400))
        cases.append({
            "seed": int(rng.integers(2**31)),
            "points": points,
            "half_width": float(rng.uniform(1.5, 3.5)),
            "coefficients": [float(v) for v in rng.normal(0.0, 1.0, 4)],
            "operations": points,
        })
    return cases


def run_cubic_case(implementation: Callable, case: Case) -> Outputs:
    rng = np.random.default_rng(case["seed"])
    x = rng.uniform(-case["half_width"], case["half_width"], case["points"])
    y = np.sin(x) + 0.1 * rng.standard_normal(case["points"])
    a, b, c, d = case["coefficients"]
    result = tuple(implementation(x.copy(), y.copy(), a, b, c, d))
    return {name: value for name, value in zip(CUBIC_NAMES, result)}


def _cubic_hint(case: Case, actual: Outputs, expected: Outputs) -> str:
    """The likely mistake behind wrong gradients, judged from ratios (no number is shown)."""
    ratios = [
        float(actual[n]) / float(expected[n])
        for n in CUBIC_NAMES
        if n in actual and float(expected[n]) != 0.0
    ]

    def all_near(value: float) -> bool:
        return bool(ratios) and all(math.isclose(r, value, rel_tol=1e-6) for r in ratios)

    if all_near(1.0 / case["points"]):
        return "The loss is the *sum* of squared errors, not their mean: do not divide by N."
    if all_near(0.5):
        return "Differentiating the square (r)^2 gives 2 r: a factor 2 is missing."
    if all_near(-1.0):
        return "The signs are flipped: the residual is prediction minus target."
    if all_near(2.0):
        return "Every gradient is twice too large: is the factor 2 applied twice?"
    values = sorted(float(actual[n]) for n in CUBIC_NAMES if n in actual)
    targets = sorted(float(expected[n]) for n in CUBIC_NAMES)
    if len(values) == 4 and all(math.isclose(v, t, rel_tol=1e-6) for v, t in zip(values, targets)):
        return "The right numbers, in the wrong order: return (grad_a, grad_b, grad_c, grad_d)."
    return "Check the power of x that multiplies the residual in each gradient."


def compare_cubic_case(case: Case, actual: Outputs, expected: Outputs) -> None:
    if len(actual) != len(CUBIC_NAMES):
        raise AssertionError(
            f"`cubic_gradients` should return four numbers, (grad_a, grad_b, grad_c, grad_d); "
            f"it returned {len(actual)}."
        )
    wrong = [n for n in CUBIC_NAMES if not _close(actual[n], expected[n], n, case["operations"])]
    if wrong:
        raise AssertionError(
            f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} not right on a random "
            f"problem with {case['points']} points. {_cubic_hint(case, actual, expected)}"
        )


# The gradients are to be derived by hand: no form of automatic differentiation.
CUBIC_FORBIDS = (AUTOMATIC_DIFFERENTIATION,)

# --------------------------------------------------------------------------------------
# Exercise 2: LegendrePolynomial3
# --------------------------------------------------------------------------------------

LEGENDRE_MODEL_GRADIENTS = tuple(f"gradient of the loss with respect to {p}" for p in "abcd")


def draw_legendre_cases(rng: np.random.Generator) -> list[Case]:
    cases: list[Case] = []
    for shape in ([int(rng.integers(5, 40))], [int(rng.integers(2, 6)), int(rng.integers(2, 6))]):
        cases.append({
            "kind": "elementwise",
            "seed": int(rng.integers(2**31)),
            "shape": shape,
            "scale": float(rng.uniform(0.5, 1.5)),
            "operations": 8,
        })
    points = int(rng.integers(50, 300))
    cases.append({
        "kind": "model",
        "seed": int(rng.integers(2**31)),
        "points": points,
        "parameters": [float(rng.normal(0.0, 0.1)), float(rng.uniform(-2.5, -0.5)),
                       float(rng.normal(0.0, 0.1)), float(rng.uniform(0.2, 0.4))],
        "operations": points,
    })
    return cases


def _first_gradient(returned: Any, like: torch.Tensor) -> tuple[torch.Tensor, bool, bool]:
    """The gradient ``backward`` returned for the (only) input, in the input's dtype as
    autograd would hand it on; whether it returned a tensor; whether it was in that dtype."""
    gradient = returned[0] if isinstance(returned, tuple) and returned else returned
    if not isinstance(gradient, torch.Tensor):
        return torch.zeros_like(like), False, True
    return gradient.to(like.dtype), True, gradient.dtype == like.dtype


def _through(function: type, x: torch.Tensor, grad_output: torch.Tensor) -> tuple:
    """``forward`` at ``x``, then ``backward`` with ``grad_output``, called as autograd calls
    them: the output, then what ``_first_gradient`` says of the gradient."""
    output, gradients = forward_backward(function, [x.clone()], [grad_output])
    return (output, *_first_gradient(gradients, x))


def run_legendre_case(implementation: type, case: Case) -> Outputs:
    generator = torch.Generator().manual_seed(case["seed"])
    if case["kind"] == "elementwise":
        shape = tuple(case["shape"])
        x = case["scale"] * torch.randn(shape, generator=generator, dtype=torch.float64)
        grad_output = torch.randn(shape, generator=generator, dtype=torch.float64)
        values, ones_gradient, returned_1, same_dtype_1 = _through(
            implementation, x, torch.ones_like(x)
        )
        _, random_gradient, returned_2, same_dtype_2 = _through(implementation, x, grad_output)
        return {
            "P3 of the input": values,
            "gradient for grad_output = 1": ones_gradient,
            "gradient for a random grad_output": random_gradient,
            "backward returned a gradient": float(returned_1 and returned_2),
            "gradient in the input's dtype": float(same_dtype_1 and same_dtype_2),
        }
    x = torch.linspace(-math.pi, math.pi, case["points"], dtype=torch.float64)
    y = torch.sin(x) + 0.05 * torch.randn(case["points"], generator=generator,
                                          dtype=torch.float64)
    a, b, c, d = case["parameters"]
    # The summed squared error of a + b P3(c + d x), differentiated by the chain rule around
    # the student's P3: `backward` receives dL/dP3 and returns dL/du for u = c + d x.
    u = c + d * x
    context = FunctionContext([True])
    with torch.no_grad():
        p3 = implementation.forward(context, u.clone())
        residual = a + b * p3 - y
        returned = implementation.backward(context, 2 * b * residual)
    gradient_u, returned_one, same_dtype = _first_gradient(returned, u)
    gradients = (2 * residual.sum(), 2 * (residual * p3).sum(), gradient_u.sum(),
                 (gradient_u * x).sum())
    outputs: Outputs = {"loss of the model a + b P3(c + d x)": (residual**2).sum()}
    outputs |= dict(zip(LEGENDRE_MODEL_GRADIENTS, gradients))
    outputs["backward returned a gradient"] = float(returned_one)
    outputs["gradient in the input's dtype"] = float(same_dtype)
    return outputs


def compare_legendre_case(case: Case, actual: Outputs, expected: Outputs) -> None:
    size = case["operations"]
    if float(actual["backward returned a gradient"]) != 1.0:
        raise AssertionError(
            "`backward` returned None: it must return the gradient of the loss with respect "
            "to the input (one tensor, the shape of the input)."
        )
    if float(actual["gradient in the input's dtype"]) != 1.0:
        raise AssertionError(
            "`backward` returns its gradient in another dtype than the input's (float32 for "
            "a float64 input, say), which loses precision: compute it from the saved input "
            "and grad_output without converting them."
        )
    if case["kind"] == "elementwise":
        if not _close(actual["P3 of the input"], expected["P3 of the input"], "P3", size):
            raise AssertionError(
                "`forward` no longer computes P3(x) = (5x^3 - 3x)/2: restore the given forward."
            )
        ones = "gradient for grad_output = 1"
        if not _close(actual[ones], expected[ones], ones, size):
            raise AssertionError(
                "With grad_output = 1, `backward` should return the derivative P3'(x); what it "
                "returns is different. Differentiate (5x^3 - 3x)/2 again."
            )
        other = "gradient for a random grad_output"
        if not _close(actual[other], expected[other], other, size):
            raise AssertionError(
                "With grad_output = 1 your gradient is right, but not with other values of "
                "grad_output: `backward` must multiply the local derivative by grad_output "
                "(the chain rule), not assume it is all ones."
            )
        return
    for what, value in expected.items():
        if not _close(actual[what], value, what, size):
            raise AssertionError(
                f"Inside the model a + b P3(c + d x) the {what} is not right: check that "
                "`backward` multiplies P3'(x), at the saved input, by grad_output."
            )


def _gradcheck_legendre(implementation: type) -> None:
    """Finite differences in double precision agree with the student's backward."""
    x = torch.randn(7, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    if not torch.autograd.gradcheck(implementation.apply, (x.requires_grad_(True),),
                                    raise_exception=False):
        raise AssertionError(
            "torch.autograd.gradcheck disagrees with your `backward`: the gradient it returns "
            "does not match finite differences of `forward`."
        )


# `backward` is the derivative written by hand: no automatic differentiation inside it.
LEGENDRE_FORBIDS = (AUTOMATIC_DIFFERENTIATION,)

# --------------------------------------------------------------------------------------
# Exercise 3: fit_polynomial
# --------------------------------------------------------------------------------------


def draw_fit_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for model, optimizer in (("cubic", "sgd_momentum"), ("linear", "rmsprop"),
                             ("linear", "sgd_momentum"), ("cubic", "rmsprop")):
        points, steps = int(rng.integers(100, 300)), int(rng.integers(15, 40))
        if optimizer == "sgd_momentum":
            settings = {"lr_fraction": float(rng.uniform(0.05, 0.3)),
                        "momentum": float(rng.uniform(0.5, 0.9))}
        else:
            settings = {"lr": float(rng.uniform(1e-3, 1e-2)),
                        "alpha": float(rng.uniform(0.9, 0.99))}
        cases.append({
            "seed": int(rng.integers(2**31)),
            "model": model,
            "optimizer": optimizer,
            "settings": settings,
            "points": points,
            "steps": steps,
            "operations": points * steps,
        })
    return cases


def run_fit_case(implementation: Callable, case: Case) -> Outputs:
    """Train a fresh model from the case; its gradients arrive filled with leftovers."""
    generator = torch.Generator().manual_seed(case["seed"])
    points = case["points"]
    x, _ = torch.sort(
        (torch.rand(points, generator=generator, dtype=torch.float64) * 2 - 1) * math.pi
    )
    y = torch.sin(x) + 0.05 * torch.randn(points, generator=generator, dtype=torch.float64)
    start = [float(v) for v in 0.5 * torch.randn(4, generator=generator)]
    if case["model"] == "cubic":
        model, inputs = Polynomial3(start).double(), x
    else:
        model, inputs = linear_cubic_model(start).double(), cubic_features(x)
    settings = case["settings"]
    if case["optimizer"] == "sgd_momentum":
        lr = settings["lr_fraction"] * largest_stable_lr(x)
        optimizer = PlainSGD(model.parameters(), lr=lr, momentum=settings["momentum"])
    else:
        optimizer = PlainRMSprop(model.parameters(), lr=settings["lr"], alpha=settings["alpha"])
    for parameter in model.parameters():  # as after an earlier backward that nobody cleared
        parameter.grad = 1e3 * torch.randn(parameter.shape, generator=generator,
                                           dtype=torch.float64)
    with warnings.catch_warnings():  # float(loss) on a tensor that requires grad warns
        warnings.simplefilter("ignore")
        history = implementation(model, inputs, y, optimizer, case["steps"])
        outputs: Outputs = {"loss history": np.array([float(loss) for loss in history])}
    for name, parameter in model.named_parameters():
        outputs[f"parameter {name} after training"] = parameter.detach().clone()
    return outputs


def compare_fit_case(case: Case, actual: Outputs, expected: Outputs) -> None:
    size, steps = case["operations"], case["steps"]
    history, reference = actual["loss history"], expected["loss history"]
    if history.shape != reference.shape:
        raise AssertionError(
            f"With steps={steps}, `fit_polynomial` returned {history.numel()} losses: "
            "record exactly one loss per step."
        )
    if not _close(history[:1], reference[:1], "first loss", size):
        raise AssertionError(
            "The first loss in the history is not the summed squared error of the starting "
            "model: compute ((model(x) - y) ** 2).sum() (a sum, not a mean), and record it in "
            "the step that computes it, before the update."
        )
    same = _close(history, reference, "loss history", size) and all(
        _close(actual[what], value, what, size)
        for what, value in expected.items() if what.startswith("parameter")
    )
    if not same:
        optimizer = "SGD with momentum" if case["optimizer"] == "sgd_momentum" else "RMSprop"
        raise AssertionError(
            f"Training with {optimizer} follows a different trajectory from the correct loop. "
            "The model may arrive with gradients left from earlier work: in every step call "
            "optimizer.zero_grad(), compute the loss, loss.backward(), then optimizer.step(), "
            "in that order, and use the optimizer you are given."
        )


# --------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------

# The notebook's setup imports: all a solution cell may rely on besides its own cell and the
# earlier exercises' (a layout test keeps this equal to the notebook's setup cells).
SETUP = (
    "import importlib",
    "import sys",
    "import inspect",
    "import warnings",
    "from functools import partial",
    "import numpy as np",
    "import torch",
    "from torch import nn",
    "from helpers.basics.checks import EXERCISES",
    "from helpers.basics.loops import fit_with_progress, progress, training_steps",
    "from helpers.basics.polynomial import DynamicPolynomial, Polynomial3, coefficients_of, "
    "cubic_features, initial_coefficients, largest_stable_lr, least_squares, legendre_to_cubic,"
    " linear_cubic_model, sine_data, sine_data_numpy",
    "from helpers.device import set_device, set_seed",
    "from helpers.basics import checks",
)

EXERCISES = Registry(
    ASSIGNMENT,
    Exercise(
        name="cubic_gradients",
        reference=f"{REFERENCE}:cubic_gradients",
        points=2,
        self_check=_self_check(
            "cubic_gradients", draw_cubic_cases, run_cubic_case, compare_cubic_case,
            CUBIC_FORBIDS, success="Your gradients match on three random problems.",
        ),
        draw_cases=draw_cubic_cases,
        run_case=run_cubic_case,
        compare=compare_cubic_case,
        forbids=CUBIC_FORBIDS,
    ),
    Exercise(
        name="LegendrePolynomial3",
        reference=f"{REFERENCE}:LegendrePolynomial3",
        points=3,
        self_check=_self_check(
            "LegendrePolynomial3", draw_legendre_cases, run_legendre_case,
            compare_legendre_case, LEGENDRE_FORBIDS, extra=_gradcheck_legendre,
            success="gradcheck agrees with your backward in double precision.",
        ),
        draw_cases=draw_legendre_cases,
        run_case=run_legendre_case,
        compare=compare_legendre_case,
        forbids=LEGENDRE_FORBIDS,
    ),
    Exercise(
        name="fit_polynomial",
        reference=f"{REFERENCE}:fit_polynomial",
        points=3,
        self_check=_self_check(
            "fit_polynomial", draw_fit_cases, run_fit_case, compare_fit_case, (),
            success="Its trajectories match with SGD + momentum and with RMSprop.",
        ),
        draw_cases=draw_fit_cases,
        run_case=run_fit_case,
        compare=compare_fit_case,
    ),
    setup=SETUP,
)
self_check, hidden_check = EXERCISES.self_check, EXERCISES.hidden_check
