"""The graded exercises of notebook 02 (deep linear networks), declared once.

Every hidden check builds its problems from seeds in plain-data cases, returns the raw outputs
of the function it runs, and judges them in ``compare`` (see ``helpers.exercise``). The
visible self-check of each exercise runs one fixed case through the same ``run_case`` and
``compare``: it catches the same mistakes with the same messages, which name what is wrong
and never the expected numbers. This module never imports ``reference``; it names it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from helpers.capabilities import ready_made
from helpers.checking import CheckFailed, assert_close, check_of, compare_outputs
from helpers.deep_linear import ASSIGNMENT
from helpers.deep_linear.network import LinearNet
from helpers.exercise import Case, Exercise, Outputs, Registry, Visible

REFERENCE = "helpers.deep_linear.reference"
INITIALIZER_FORBIDS = (
    ready_made("a ready-made Xavier initializer", "torch.nn.init.xavier_normal_"),
)
# The total map is half of the exercise: the helper that multiplies the layers is off limits.
SVD_FORBIDS = (
    ready_made("the course's product of the layers", "helpers.deep_linear.network:total_map"),
)


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


def _plain(value: Any) -> Any:
    """A returned tensor without its graph, on the CPU, so that it converts to numpy."""
    return value.detach().cpu() if isinstance(value, torch.Tensor) else value


def _float32(value: Any, what: str) -> torch.Tensor:
    try:
        return torch.as_tensor(np.asarray(_plain(value), dtype=np.float32))
    except (TypeError, ValueError, RuntimeError) as error:
        raise CheckFailed(
            "not a tensor", f"{what} should be a tensor or an array of numbers."
        ) from error


def _model(case: Case) -> LinearNet:
    """The case's network, with PyTorch's default initial weights drawn from the case's seed."""
    sizes = case["sizes"]
    with torch.random.fork_rng(devices=[]):  # leaves the notebook's random state alone
        torch.manual_seed(case["seed"])
        return LinearNet(sizes[0], sizes[1:-1], sizes[-1])


# --------------------------------------------------------------------------------------
# Exercise 0: ex_initializer_(model, gamma)
# --------------------------------------------------------------------------------------


def draw_initializer_cases(rng: np.random.Generator) -> list[Case]:
    """A large gamma and a small one; every layer holds at least 20,000 weights, enough for
    the statistics in ``compare_initializer_case`` to fail correct code about once in 10^5.
    """
    return [
        {"seed": _seed(rng), "sizes": [300, 200, 100], "gamma": float(rng.uniform(1.0, 4.0))},
        {"seed": _seed(rng), "sizes": [50, 400, 120], "gamma": float(10 ** rng.uniform(-2, -1))},
    ]


def run_initializer_case(implementation: Any, case: Case) -> Outputs:
    """The weights before and after the call, seen through the model's original parameters
    (those an optimizer would hold), and how many parameters the call replaced."""
    with torch.random.fork_rng(devices=[]):
        model = _model(case)
        params = list(model.parameters())
        before = [param.detach().clone() for param in params]
        torch.manual_seed(case["seed"] + 1)  # the implementation draws from the global RNG
        implementation(model, case["gamma"])
    now = list(model.parameters())
    replaced = abs(len(now) - len(params)) + sum(a is not b for a, b in zip(now, params))
    outputs: Outputs = {"parameters replaced": float(replaced)}
    for index, (param, old) in enumerate(zip(params, before)):
        outputs[f"layer {index} before"] = old
        outputs[f"layer {index} after"] = param.detach().clone()
    return outputs


def compare_initializer_case(case: Case, actual: Outputs, expected: Outputs) -> None:
    """Statistics, not values: any correct sampler passes, whatever random numbers it draws."""
    if float(np.asarray(actual.get("parameters replaced", 1.0))) != 0.0:
        raise CheckFailed(
            "weights replaced, not changed in place",
            "ex_initializer_ must change the values of the model's weights in place, "
            "not replace the parameters with new ones."
        )
    gamma = case["gamma"]
    for index in range(len(case["sizes"]) - 1):
        old = torch.as_tensor(np.asarray(expected[f"layer {index} before"])).double()
        weight = _float32(actual[f"layer {index} after"], f"Layer {index}").double()
        n_out, n_in = old.shape
        if tuple(weight.shape) != (n_out, n_in):
            raise CheckFailed(
                "a layer changed its shape", f"A ({n_out}, {n_in}) layer changed its shape."
            )
        if torch.equal(weight, old):
            raise CheckFailed("weights not redrawn", "Some weights were not redrawn.")
        n = weight.numel()
        sigma = gamma / (n_in + n_out) ** 0.5
        mean, std = weight.mean().item(), weight.std().item()
        if abs(mean) >= 5 * sigma / n**0.5:
            raise CheckFailed("mean not 0", "The weights should have mean 0.")
        if abs(std / sigma - 1) >= 5 / (2 * n) ** 0.5:
            raise CheckFailed(
                "wrong standard deviation",
                f"A ({n_out}, {n_in}) layer has the wrong standard deviation: "
                "check the formula for sigma (which sizes, and the square root)."
            )
        z = (weight - mean) / std
        inside_one_sigma = (z.abs() < 1).double().mean().item()
        kurtosis = (z**4).mean().item()
        if abs(inside_one_sigma - 0.6827) >= 0.015 or abs(kurtosis - 3) >= 0.25:
            raise CheckFailed(
                "not normally distributed", "The weights should follow a normal distribution."
            )


# --------------------------------------------------------------------------------------
# Exercise 2: ex_net_svd(model, in_dim)
# --------------------------------------------------------------------------------------

# Total maps wider than tall, taller than wide, square (where V^T has V's shape) and thin.
SVD_SIZES = ([6, 9, 11], [10, 7, 8, 4], [5, 5, 5, 5], [8, 30, 200])


def draw_svd_cases(rng: np.random.Generator) -> list[Case]:
    return [{"seed": _seed(rng), "sizes": sizes} for sizes in SVD_SIZES]


def run_svd_case(implementation: Any, case: Case) -> Outputs:
    u, s, v = implementation(_model(case), case["sizes"][0])
    return {"U": _plain(u), "S": _plain(s), "V": _plain(v)}


def _close(actual: torch.Tensor, expected: torch.Tensor, size: int) -> bool:
    try:
        assert_close(actual, expected, "", size=size)
    except AssertionError:
        return False
    return True


def compare_svd_case(case: Case, actual: Outputs, expected: Outputs) -> None:
    """Singular vectors are unique only up to sign (and rotations within equal singular
    values), so U and V are judged by what defines them: orthonormal columns whose
    U diag(S) V^T is the total map. S itself is unique and compared directly."""
    u_ref, s_ref, v_ref = (_float32(expected[key], key) for key in ("U", "S", "V"))
    total = u_ref @ torch.diag(s_ref) @ v_ref.T
    (out_dim, in_dim), k = total.shape, s_ref.numel()
    u, s, v = (_float32(actual[key], key) for key in ("U", "S", "V"))
    if tuple(s.shape) != (k,):
        raise CheckFailed("S not a vector", f"S should be a vector of {k} singular values.")
    if tuple(u.shape) != (out_dim, k):
        raise CheckFailed("U of the wrong shape", "U has the wrong shape: return the reduced SVD.")
    if tuple(v.shape) != (in_dim, k):
        raise CheckFailed(
            "V of the wrong shape",
            "V has the wrong shape: return V of the reduced SVD (as torch.svd does), not V^T."
        )
    size = out_dim * in_dim
    assert_close(s, s_ref, "S (the singular values, in decreasing order)", size=size)
    assert_close(u.T @ u, torch.eye(k), "U^T U (U's columns should be orthonormal)", size=size)
    assert_close(v.T @ v, torch.eye(k), "V^T V (V's columns should be orthonormal)", size=size)
    product = u @ torch.diag(s) @ v.T
    if not _close(product, total, size) and _close(u @ torch.diag(s) @ v, total, size):
        raise CheckFailed(
            "V^T returned for V",
            "U diag(S) V^T is not the total map, but U diag(S) V is: you returned V^T "
            "(torch.linalg.svd's Vh). Return V, as torch.svd does."
        )
    assert_close(
        product,
        total,
        "U diag(S) V^T (it should equal the product of all weights, last layer first)",
        size=size,
    )


# --------------------------------------------------------------------------------------
# Exercise 2b: saxe_half_time(s, tau, u0)
# --------------------------------------------------------------------------------------


def draw_half_time_cases(rng: np.random.Generator) -> list[Case]:
    """Modes started far below their strength (as in the notebook) and near it, where the
    "- 1" of the exact half time matters: ln(s/u0) alone is then clearly wrong."""
    cases = []
    for ratio in (1e10, 3.0, 7.5, 40.0):
        s = float(rng.uniform(0.5, 80.0))
        cases.append({"s": s, "tau": float(rng.uniform(20.0, 5000.0)), "u0": s / ratio})
    return cases


def _half_time_key(case: Case) -> str:
    return f"the half time for s = {case['s']:.4g}, tau = {case['tau']:.4g}, u0 = {case['u0']:.4g}"


def run_half_time_case(implementation: Any, case: Case) -> Outputs:
    value = _plain(implementation(case["s"], case["tau"], case["u0"]))
    try:
        return {_half_time_key(case): np.float64(value)}
    except (TypeError, ValueError):
        raise TypeError("`saxe_half_time` should return one number.") from None


def compare_half_time_case(case: Case, actual: Outputs, expected: Outputs) -> None:
    try:
        compare_outputs(actual, expected, size=10)
    except AssertionError as error:
        raise CheckFailed(
            check_of(error),
            f"{error} Set u(t) = s / 2 in the closed form and solve for t exactly (natural "
            "logarithm; keep every term)."
        ) from None


# --------------------------------------------------------------------------------------
# Exercise 3: ex_net_rsm(h)
# --------------------------------------------------------------------------------------

RSM_SHAPES = ((7, 13), (12, 5), (8, 30), (1, 4))  # (inputs, hidden units)


def draw_rsm_cases(rng: np.random.Generator) -> list[Case]:
    return [
        {"seed": _seed(rng), "n_inputs": n_inputs, "n_hidden": n_hidden, "operations": n_hidden}
        for n_inputs, n_hidden in RSM_SHAPES
    ]


def _rsm_key(case: Case) -> str:
    return f"the RSM of {case['n_inputs']} inputs"


def run_rsm_case(implementation: Any, case: Case) -> Outputs:
    generator = torch.Generator().manual_seed(case["seed"])
    h = torch.randn(case["n_inputs"], case["n_hidden"], generator=generator) * 2.0 - 0.5
    return {_rsm_key(case): _plain(implementation(h))}


def compare_rsm_case(case: Case, actual: Outputs, expected: Outputs) -> None:
    n_hidden = case["n_hidden"]
    shape = np.shape(actual.get(_rsm_key(case)))
    if shape == (n_hidden, n_hidden) and case["n_inputs"] != n_hidden:
        raise CheckFailed(
            "h^T h instead of h h^T",
            "The RSM compares inputs (the rows of h), so it has one row and one column per "
            "input; yours has one per hidden unit (h^T h instead of h h^T)."
        )
    compare_outputs(actual, expected, size=case["operations"])


# --------------------------------------------------------------------------------------
# Exercise 6: linear_regression(X, Y)
# --------------------------------------------------------------------------------------

REGRESSION_SIZES = ((5, 3, 40), (2, 6, 9), (4, 4, 30))  # (features, outputs, samples)


def _regression_data(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """X (features x samples) and Y (outputs x samples); exactly linear for a noiseless case."""
    rng = np.random.default_rng(case["seed"])
    X = rng.normal(size=(case["n_features"], case["n_samples"])) + 0.3
    if case.get("noiseless"):
        Y = rng.normal(size=(case["n_outputs"], case["n_features"])) @ X
    else:
        Y = rng.normal(size=(case["n_outputs"], case["n_samples"])) - 0.2
    return X, Y


def _regression_case(seed: int, n_features: int, n_outputs: int, n_samples: int) -> Case:
    """A case whose tolerance grows with the condition number of X X^T: inv, solve, lstsq
    and pinv are all correct and differ from each other by about that factor times epsilon.
    """
    case = {"seed": seed, "n_features": n_features, "n_outputs": n_outputs, "n_samples": n_samples}
    X, _ = _regression_data(case)
    condition = float(np.linalg.cond(X @ X.T))
    case["operations"] = int(n_features * n_samples * np.ceil(condition) ** 2)
    return case


def draw_regression_cases(rng: np.random.Generator) -> list[Case]:
    return [_regression_case(_seed(rng), *sizes) for sizes in REGRESSION_SIZES]


def run_regression_case(implementation: Any, case: Case) -> Outputs:
    X, Y = _regression_data(case)
    W = implementation(X.copy(), Y.copy())
    return {f"W for {case['n_features']} features and {case['n_outputs']} outputs": _plain(W)}


def compare_regression_case(case: Case, actual: Outputs, expected: Outputs) -> None:
    compare_outputs(actual, expected, size=case["operations"])


# --------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------

_REGRESSION_SELF_CHECK = {**_regression_case(0, 2, 3, 20), "noiseless": True}

# The notebook's setup imports: all a solution cell may rely on besides its own cell and the
# earlier exercises' (a layout test keeps this equal to the notebook's setup cells).
SETUP = (
    "import importlib",
    "import sys",
    "import math",
    "import numpy as np",
    "import torch",
    "from torch import nn",
    "from helpers.data import hierarchical_data",
    "from helpers.deep_linear.checks import EXERCISES",
    "from helpers.deep_linear.network import LinearNet, train",
    "from helpers.device import set_device, set_seed",
    "from helpers.deep_linear import checks",
)

EXERCISES = Registry(
    ASSIGNMENT,
    Exercise(
        name="ex_initializer_",
        reference=f"{REFERENCE}:initializer_",
        points=2,
        visible=Visible(
            success="Looks good: every layer was redrawn in place from a normal distribution with "
            "mean 0 and standard deviation gamma / sqrt(n_in + n_out).",
            cases=lambda: [{"seed": 0, "sizes": [400, 100, 50], "gamma": 2.0}],
        ),
        draw_cases=draw_initializer_cases,
        run_case=run_initializer_case,
        compare=compare_initializer_case,
        forbids=INITIALIZER_FORBIDS,
    ),
    Exercise(
        name="ex_net_svd",
        reference=f"{REFERENCE}:net_svd",
        points=3,
        visible=Visible(
            success="Looks good: U and V have orthonormal columns, S is sorted, and "
            "U diag(S) V^T is the total map of a 3 -> 4 -> 5 network.",
            cases=lambda: [{"seed": 1, "sizes": [3, 4, 5]}],
        ),
        draw_cases=draw_svd_cases,
        run_case=run_svd_case,
        compare=compare_svd_case,
        forbids=SVD_FORBIDS,
    ),
    Exercise(
        name="saxe_half_time",
        reference=f"{REFERENCE}:saxe_half_time",
        points=1,
        visible=Visible(
            success="Looks good: a mode of strength 6 that starts at 1.5 with tau = 100 "
            "reaches 3 at the time you computed.",
            cases=lambda: [{"s": 6.0, "tau": 100.0, "u0": 1.5}],
        ),
        draw_cases=draw_half_time_cases,
        run_case=run_half_time_case,
        compare=compare_half_time_case,
    ),
    Exercise(
        name="ex_net_rsm",
        reference=f"{REFERENCE}:net_rsm",
        points=2,
        visible=Visible(
            success="Looks good: the RSM of 4 inputs with 6 hidden units is right.",
            cases=lambda: [{"seed": 0, "n_inputs": 4, "n_hidden": 6, "operations": 6}],
        ),
        draw_cases=draw_rsm_cases,
        run_case=run_rsm_case,
        compare=compare_rsm_case,
    ),
    Exercise(
        name="linear_regression",
        reference=f"{REFERENCE}:linear_regression",
        points=2,
        visible=Visible(
            success="Looks good: the true weights of noiseless data were recovered.",
            cases=lambda: [_REGRESSION_SELF_CHECK],
        ),
        draw_cases=draw_regression_cases,
        run_case=run_regression_case,
        compare=compare_regression_case,
    ),
    setup=SETUP,
)
self_check, hidden_check = EXERCISES.self_check, EXERCISES.hidden_check
