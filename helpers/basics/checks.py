"""The graded exercises of notebook 01 and their checks.

- ``cubic_gradients(x, y, a, b, c, d)``: the four hand-derived gradients of the summed squared
  error, as floats;
- ``LegendrePolynomial3``: an autograd Function whose ``forward`` (saving its input with
  ``save_for_backward``) and ``backward`` the student writes;
- ``SumSquaredError``: an autograd Function of two inputs, the summed squared error, whose
  ``backward`` returns a tuple of gradients with ``None`` where ``ctx.needs_input_grad`` says
  a gradient is not needed;
- ``fit_polynomial(model, x, y, optimizer, steps)``: the canonical training loop, returning
  the loss of every step;
- ``stability_limit(x)``: the largest stable learning rate 2 / lambda_max of gradient descent
  on the cubic's summed squared error.

Hidden cases are drawn fresh on every run; ``run_case`` rebuilds each problem from its seed
and returns raw outputs only. The compare functions, run where no student code runs, turn a
mismatch into a hint about the likely mistake (a mean instead of a sum, a missing factor 2,
an ignored ``grad_output``, a gradient returned where none is needed, gradients not
cleared, the smallest eigenvalue for the largest) without showing any expected number. The
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
from helpers.capabilities import AUTOMATIC_DIFFERENTIATION, ready_made
from helpers.checking import CheckFailed, assert_close
from helpers.exercise import Case, Exercise, Outputs, Registry, Visible

REFERENCE = "helpers.basics.reference"

# --------------------------------------------------------------------------------------
# Shared: self-checks run the hidden kind of cases on fixed seeds
# --------------------------------------------------------------------------------------


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
        raise CheckFailed(
            "wrong number of gradients",
            f"`cubic_gradients` should return four numbers, (grad_a, grad_b, grad_c, grad_d); "
            f"it returned {len(actual)}."
        )
    wrong = [n for n in CUBIC_NAMES if not _close(actual[n], expected[n], n, case["operations"])]
    if wrong:
        raise CheckFailed(
            "gradients not right",
            f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} not right on a random "
            f"problem with {case['points']} points. {_cubic_hint(case, actual, expected)}"
        )


# The gradients are to be derived by hand: no form of automatic differentiation.
CUBIC_FORBIDS = (AUTOMATIC_DIFFERENTIATION,)

# --------------------------------------------------------------------------------------
# Exercise 2: LegendrePolynomial3
# --------------------------------------------------------------------------------------

LEGENDRE_MODEL_GRADIENTS = tuple(f"gradient of the loss with respect to {p}" for p in "abcd")
SAVED = "tensors passed through save_for_backward"
SAVE_FOR_BACKWARD = (
    "save the tensors `backward` needs with ctx.save_for_backward(...) in `forward`, and read "
    "them back from ctx.saved_tensors in `backward`. A tensor stored as an attribute of ctx "
    "(ctx.x = x) gives the same numbers here, but PyTorch asks for save_for_backward: it "
    "notices when an input is changed in place between the two passes (an attribute silently "
    "gives a wrong gradient) and frees the saved tensors once `backward` has run."
)


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


def _gradients(returned: Any, count: int) -> tuple[Any, ...] | None:
    """The gradients ``backward`` returned, one per input of ``forward``, as autograd reads
    them (a tuple, or one value for a single input; extra trailing ``None`` are allowed);
    None when their number is wrong."""
    gradients = returned if isinstance(returned, tuple) else (returned,)
    while len(gradients) > count and gradients[-1] is None:
        gradients = gradients[:-1]
    return gradients if len(gradients) == count else None


def _as_input_gradient(gradient: Any, like: torch.Tensor) -> tuple[torch.Tensor, bool, bool]:
    """A returned gradient in the input's dtype, as autograd would hand it on; whether it
    was a tensor; whether it already had that dtype."""
    if not isinstance(gradient, torch.Tensor):
        return torch.zeros_like(like), False, True
    return gradient.to(like.dtype), True, gradient.dtype == like.dtype


def _first_gradient(returned: Any, like: torch.Tensor) -> tuple[torch.Tensor, bool, bool]:
    """What ``_as_input_gradient`` says of the gradient ``backward`` returned for the (only)
    input."""
    gradients = _gradients(returned, 1)
    return _as_input_gradient(None if gradients is None else gradients[0], like)


def _through(function: type, x: torch.Tensor, grad_output: torch.Tensor) -> tuple:
    """``forward`` at ``x``, then ``backward`` with ``grad_output``, called as autograd calls
    them: the output, what ``_first_gradient`` says of the gradient, and whether the saved
    tensors went through ``save_for_backward``."""
    output, gradients, context = forward_backward(function, [x.clone()], [grad_output])
    return (output, *_first_gradient(gradients, x), context.used_save_for_backward)


def run_legendre_case(implementation: type, case: Case) -> Outputs:
    generator = torch.Generator().manual_seed(case["seed"])
    if case["kind"] == "elementwise":
        shape = tuple(case["shape"])
        x = case["scale"] * torch.randn(shape, generator=generator, dtype=torch.float64)
        grad_output = torch.randn(shape, generator=generator, dtype=torch.float64)
        values, ones_gradient, returned_1, same_dtype_1, saved_1 = _through(
            implementation, x, torch.ones_like(x)
        )
        _, random_gradient, returned_2, same_dtype_2, saved_2 = _through(
            implementation, x, grad_output
        )
        return {
            "P3 of the input": values,
            "gradient for grad_output = 1": ones_gradient,
            "gradient for a random grad_output": random_gradient,
            "backward returned a gradient": float(returned_1 and returned_2),
            "gradient in the input's dtype": float(same_dtype_1 and same_dtype_2),
            SAVED: float(saved_1 and saved_2),
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
    outputs[SAVED] = float(context.used_save_for_backward)
    return outputs


def _differentiates_at_the_output(actual: Outputs, expected: Outputs, size: int) -> bool:
    """Whether the gradient for grad_output = 1 is P3' taken at forward's output, as when
    `forward` saves its result instead of its input."""
    p3 = expected["P3 of the input"]
    ones = "gradient for grad_output = 1"
    return _close(actual[ones], 1.5 * (5 * p3**2 - 1), ones, size)


def compare_legendre_case(case: Case, actual: Outputs, expected: Outputs) -> None:
    size = case["operations"]
    if float(actual["backward returned a gradient"]) != 1.0:
        raise CheckFailed(
            "backward returned None",
            "`backward` returned None: it must return the gradient of the loss with respect "
            "to the input (one tensor, the shape of the input)."
        )
    if float(actual["gradient in the input's dtype"]) != 1.0:
        raise CheckFailed(
            "gradient in another dtype",
            "`backward` returns its gradient in another dtype than the input's (float32 for "
            "a float64 input, say), which loses precision: compute it from the saved input "
            "and grad_output without converting them."
        )
    if case["kind"] == "elementwise":
        if not _close(actual["P3 of the input"], expected["P3 of the input"], "P3", size):
            raise CheckFailed(
                "forward is not P3",
                "`forward` should return P3(x) = (5x^3 - 3x)/2 of its input, elementwise; "
                "what it returns is different."
            )
        ones = "gradient for grad_output = 1"
        if not _close(actual[ones], expected[ones], ones, size):
            if _differentiates_at_the_output(actual, expected, size):
                raise CheckFailed(
                    "derivative taken at the output",
                    "`backward` takes the derivative P3'(u) at forward's output u = P3(x) "
                    "instead of at its input x: save the input x in `forward`."
                )
            raise CheckFailed(
                "derivative not right",
                "With grad_output = 1, `backward` should return the derivative P3'(x) at the "
                "input x that `forward` saved; what it returns is different. Differentiate "
                "(5x^3 - 3x)/2 again, and check that `forward` saves its input."
            )
        other = "gradient for a random grad_output"
        if not _close(actual[other], expected[other], other, size):
            raise CheckFailed(
                "grad_output ignored",
                "With grad_output = 1 your gradient is right, but not with other values of "
                "grad_output: `backward` must multiply the local derivative by grad_output "
                "(the chain rule), not assume it is all ones."
            )
    else:
        for what, value in expected.items():
            if what != SAVED and not _close(actual[what], value, what, size):
                raise CheckFailed(
                    "gradient in the model not right",
                    f"Inside the model a + b P3(c + d x) the {what} is not right: check that "
                    "`backward` multiplies P3'(x), at the saved input, by grad_output."
                )
    if float(actual[SAVED]) != 1.0:
        raise CheckFailed(
            "input not saved with save_for_backward", f"`LegendrePolynomial3`: {SAVE_FOR_BACKWARD}"
        )


def _gradcheck(implementation: type, inputs: tuple[torch.Tensor, ...], name: str) -> None:
    """Finite differences in double precision agree with the student's backward."""
    if not torch.autograd.gradcheck(implementation.apply, inputs, raise_exception=False):
        raise CheckFailed(
            "gradcheck disagrees",
            f"torch.autograd.gradcheck disagrees with your `{name}`: the gradients `backward` "
            "returns do not match finite differences of `forward`."
        )


def _gradcheck_legendre(implementation: type) -> None:
    x = torch.randn(7, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    _gradcheck(implementation, (x.requires_grad_(True),), "LegendrePolynomial3")


# `forward` and `backward` are written by hand: no automatic differentiation inside them.
LEGENDRE_FORBIDS = (AUTOMATIC_DIFFERENTIATION,)

# --------------------------------------------------------------------------------------
# Exercise 3: SumSquaredError, a Function of two inputs
# --------------------------------------------------------------------------------------

SSE_INPUTS = ("prediction", "target")
SSE_LOSS = "summed squared error"


def _sse_gradient(name: str) -> str:
    return f"gradient with respect to the {name}"


def _sse_returned(name: str) -> str:
    return f"a gradient returned for the {name}"


def draw_squared_error_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for needs, dtype in (([True, False], "float64"), ([False, True], "float64"),
                         ([True, True], "float32")):
        shape = ([int(rng.integers(5, 300))] if rng.random() < 0.5
                 else [int(rng.integers(2, 20)), int(rng.integers(2, 20))])
        # grad_output is never close to 1, so that a backward that ignores it shows
        magnitude = float(rng.choice([rng.uniform(0.2, 0.7), rng.uniform(1.5, 3.0)]))
        cases.append({
            "seed": int(rng.integers(2**31)),
            "shape": shape,
            "needs_input_grad": needs,
            "grad_output": magnitude * float(rng.choice([-1.0, 1.0])),
            "dtype": dtype,
            "operations": int(np.prod(shape)),
        })
    return cases


def run_squared_error_case(implementation: type, case: Case) -> Outputs:
    generator = torch.Generator().manual_seed(case["seed"])
    dtype = getattr(torch, case["dtype"])
    shape = tuple(case["shape"])
    prediction = torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)
    target = torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)
    grad_output = torch.tensor(case["grad_output"], dtype=dtype)
    inputs = (prediction, target)
    loss, returned, context = forward_backward(
        implementation, [prediction.clone(), target.clone()], [grad_output],
        case["needs_input_grad"],
    )
    is_tensor = isinstance(loss, torch.Tensor)
    outputs: Outputs = {
        "forward returned a tensor": float(is_tensor),
        SSE_LOSS: loss if is_tensor else float(loss),
    }
    gradients = _gradients(returned, len(inputs))
    outputs["one gradient per input"] = float(gradients is not None)
    same_dtype = True
    for index, name in enumerate(SSE_INPUTS):
        gradient = None if gradients is None else gradients[index]
        value, given, in_dtype = _as_input_gradient(gradient, inputs[index])
        outputs[_sse_returned(name)] = float(given)
        outputs[_sse_gradient(name)] = value
        same_dtype = same_dtype and in_dtype
    outputs["gradients in the inputs' dtype"] = float(same_dtype)
    outputs[SAVED] = float(context.used_save_for_backward)
    return outputs


def _needs(case: Case) -> str:
    return "(" + ", ".join(str(bool(flag)) for flag in case["needs_input_grad"]) + ")"


def _sse_value_hint(case: Case, actual: Outputs, expected: Outputs, name: str) -> str:
    """The likely mistake behind a wrong gradient for ``name`` (no number is shown)."""
    size = case["operations"]
    gradient, correct = actual[_sse_gradient(name)], expected[_sse_gradient(name)]
    if _close(gradient, correct / case["grad_output"], name, size):
        return ("`backward` ignores grad_output: multiply the local derivative by grad_output "
                "(the chain rule), which is not 1 when the loss is scaled or used further.")
    if _close(gradient, -correct, name, size):
        return (f"its sign is flipped: the residual is prediction - target, so the {name}'s "
                "gradient is " + ("+" if name == "prediction" else "-") + "2 (prediction - "
                "target) times grad_output.")
    if _close(gradient, correct / 2, name, size):
        return "a factor 2 is missing: the derivative of r^2 is 2 r."
    if _close(gradient, correct / size, name, size):
        return "the loss is a sum, not a mean: do not divide by the number of elements."
    return ("the gradient of sum((prediction - target)^2) is 2 (prediction - target) for the "
            "prediction and its negative for the target, each times grad_output.")


def compare_squared_error_case(case: Case, actual: Outputs, expected: Outputs) -> None:
    size, needs = case["operations"], _needs(case)
    if float(actual["forward returned a tensor"]) != 1.0:
        raise CheckFailed(
            "loss not a tensor",
            "`forward` should return the loss as a tensor (a 0-d tensor), not a Python "
            "number: autograd can only go back through tensors."
        )
    loss, correct = actual[SSE_LOSS], expected[SSE_LOSS]
    if loss.numel() != 1:
        raise CheckFailed(
            "loss not summed",
            "`forward` should return one number, the sum over all elements of the squared "
            "residuals; it returned one value per element."
        )
    if not _close(loss.reshape(()), correct, SSE_LOSS, size):
        hint = ("it is the mean, not the sum: do not divide by the number of elements."
                if _close(loss.reshape(()), correct / size, SSE_LOSS, size)
                else "it should be sum((prediction - target)^2) over all elements.")
        raise CheckFailed("loss not right", f"The loss `forward` returns is not right: {hint}")
    if float(actual["one gradient per input"]) != 1.0:
        raise CheckFailed(
            "not one gradient per input",
            "`backward` must return a tuple with one entry per input of `forward`, in their "
            "order: (gradient for the prediction, gradient for the target), with None where "
            "a gradient is not needed."
        )
    for index, name in enumerate(SSE_INPUTS):
        given = float(actual[_sse_returned(name)]) == 1.0
        wanted = float(expected[_sse_returned(name)]) == 1.0
        if given and not wanted:
            raise CheckFailed(
                "unneeded gradient returned",
                f"Here ctx.needs_input_grad is {needs}: the {name} needs no gradient, so "
                f"`backward` should return None in its place (entry {index}) and skip "
                "computing it."
            )
        if wanted and not given:
            raise CheckFailed(
                "needed gradient missing",
                f"Here ctx.needs_input_grad is {needs}: entry {index} is True, but `backward` "
                f"returned None for the {name}; return its gradient there."
            )
    if float(actual["gradients in the inputs' dtype"]) != 1.0:
        raise CheckFailed(
            "gradient in another dtype",
            "`backward` returns a gradient in another dtype than its input's (float64 for a "
            "float32 input, say): compute it from the saved tensors and grad_output without "
            "converting them."
        )
    for name in SSE_INPUTS:
        what = _sse_gradient(name)
        if not _close(actual[what], expected[what], what, size):
            raise CheckFailed(
                "gradient not right",
                f"With ctx.needs_input_grad = {needs}, the {what} is not right: "
                f"{_sse_value_hint(case, actual, expected, name)}"
            )
    if float(actual[SAVED]) != 1.0:
        raise CheckFailed(
            "inputs not saved with save_for_backward", f"`SumSquaredError`: {SAVE_FOR_BACKWARD}"
        )


def _gradcheck_squared_error(implementation: type) -> None:
    generator = torch.Generator().manual_seed(5)
    inputs = tuple(torch.randn(6, dtype=torch.float64, generator=generator).requires_grad_(True)
                   for _ in SSE_INPUTS)
    _gradcheck(implementation, inputs, "SumSquaredError")


SSE_FORBIDS = (AUTOMATIC_DIFFERENTIATION,)

# --------------------------------------------------------------------------------------
# Exercise 4: fit_polynomial
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
        raise CheckFailed(
            "wrong number of losses",
            f"With steps={steps}, `fit_polynomial` returned {history.numel()} losses: "
            "record exactly one loss per step."
        )
    if not _close(history[:1], reference[:1], "first loss", size):
        raise CheckFailed(
            "first loss not right",
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
        raise CheckFailed(
            "trajectory differs",
            f"Training with {optimizer} follows a different trajectory from the correct loop. "
            "The model may arrive with gradients left from earlier work: in every step call "
            "optimizer.zero_grad(), compute the loss, loss.backward(), then optimizer.step(), "
            "in that order, and use the optimizer you are given."
        )


# --------------------------------------------------------------------------------------
# Exercise 5: stability_limit
# --------------------------------------------------------------------------------------

LIMIT = "stability limit"
# A relative tolerance that float32 data allow (the sums behind the Hessian carry rounding
# errors of about 1e-6) and that no mistake below comes near.
LIMIT_RTOL = 1e-4


def draw_stability_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for dtype in ("float64", "float32", "float64"):
        # Intervals not centred on 0: there the constant column and x^2 change the limit too
        low = float(rng.uniform(-3.5, 0.5))
        cases.append({
            "seed": int(rng.integers(2**31)),
            "points": int(rng.integers(20, 400)),
            "low": low,
            "high": low + float(rng.uniform(1.5, 4.0)),
            "dtype": dtype,
        })
    return cases


def run_stability_case(implementation: Callable, case: Case) -> Outputs:
    generator = torch.Generator().manual_seed(case["seed"])
    x = torch.rand(case["points"], generator=generator, dtype=torch.float64)
    x = (case["low"] + (case["high"] - case["low"]) * x).to(getattr(torch, case["dtype"]))
    return {LIMIT: implementation(x.clone())}


def _limit_hint(case: Case, ratio: float) -> str:
    """The likely mistake behind a wrong limit, from its ratio to the right one."""

    def near(value: float) -> bool:
        return math.isclose(ratio, value, rel_tol=1e-3)

    if near(0.5):
        return ("It is half the limit: the limit is 2 / lambda_max, not 1 / lambda_max (or "
                "is the factor 2 of the Hessian counted twice?).")
    if near(2.0):
        return ("It is twice the limit: the Hessian of the summed squared error is 2 V^T V, "
                "not V^T V (differentiating the square gives a factor 2).")
    if near(case["points"]):
        return ("The loss is the sum of the squared errors, not their mean: its Hessian is "
                "2 V^T V, without dividing by the number of points.")
    if ratio > 5:
        return ("Use the largest eigenvalue of the Hessian: the steepest direction is the "
                "first to diverge, at a far smaller rate than the flattest one allows.")
    return ("The limit is 2 / lambda_max(H) with H = 2 V^T V, where V has the columns 1, x, "
            "x^2 and x^3 (the constant column included): a bound on lambda_max (the trace, "
            "the largest diagonal entry) is not the limit.")


def compare_stability_case(case: Case, actual: Outputs, expected: Outputs) -> None:
    value, correct = actual[LIMIT], expected[LIMIT]
    if value.numel() != 1:
        raise CheckFailed(
            "not one number",
            f"`stability_limit` should return one number; it returned shape {tuple(value.shape)}."
        )
    value, correct = float(value.reshape(())), float(correct)
    if not math.isfinite(value):
        raise CheckFailed("NaN or infinite", "`stability_limit` returned NaN or an infinite value.")
    if not math.isclose(value, correct, rel_tol=LIMIT_RTOL):
        raise CheckFailed(
            "stability limit not right",
            f"`stability_limit` is not right for {case['points']} points spread over an "
            f"interval from {case['low']:.2f} to {case['high']:.2f}. "
            f"{_limit_hint(case, value / correct)}"
        )


# The course's helper computes exactly this number.
STABILITY_FORBIDS = (
    ready_made("the course's stability limit", "helpers.basics.polynomial:largest_stable_lr"),
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
    "cubic_features, initial_coefficients, least_squares, legendre_to_cubic, linear_cubic_model, "
    "sine_data, sine_data_numpy",
    "from helpers.device import set_device, set_seed",
    "from helpers.basics import checks",
)

EXERCISES = Registry(
    ASSIGNMENT,
    Exercise(
        name="cubic_gradients",
        reference=f"{REFERENCE}:cubic_gradients",
        points=2,
        visible=Visible(
            success="`cubic_gradients` passes the visible checks. Your gradients match on three "
            "random problems.",
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
        visible=Visible(
            success="`LegendrePolynomial3` passes the visible checks. gradcheck agrees with your "
            "backward in double precision.",
            extra=_gradcheck_legendre,
        ),
        draw_cases=draw_legendre_cases,
        run_case=run_legendre_case,
        compare=compare_legendre_case,
        forbids=LEGENDRE_FORBIDS,
    ),
    Exercise(
        name="SumSquaredError",
        reference=f"{REFERENCE}:SumSquaredError",
        points=3,
        visible=Visible(
            success="`SumSquaredError` passes the visible checks. gradcheck agrees with your "
            "backward for both inputs.",
            extra=_gradcheck_squared_error,
        ),
        draw_cases=draw_squared_error_cases,
        run_case=run_squared_error_case,
        compare=compare_squared_error_case,
        forbids=SSE_FORBIDS,
    ),
    Exercise(
        name="fit_polynomial",
        reference=f"{REFERENCE}:fit_polynomial",
        points=3,
        visible=Visible(
            success="`fit_polynomial` passes the visible checks. Its trajectories match with SGD + "
            "momentum and with RMSprop.",
        ),
        draw_cases=draw_fit_cases,
        run_case=run_fit_case,
        compare=compare_fit_case,
    ),
    Exercise(
        name="stability_limit",
        reference=f"{REFERENCE}:stability_limit",
        points=2,
        visible=Visible(
            success="`stability_limit` passes the visible checks. It matches on three sets of "
            "points.",
        ),
        draw_cases=draw_stability_cases,
        run_case=run_stability_case,
        compare=compare_stability_case,
        forbids=STABILITY_FORBIDS,
    ),
    setup=SETUP,
)
self_check, hidden_check = EXERCISES.self_check, EXERCISES.hidden_check
