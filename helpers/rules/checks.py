"""The graded exercises of notebook 04: four rule classes in the course's protocol, a warm-up
schedule (``warmup``) and the chain of rules (``Chain``).

Every check trains a fresh small model (an ``Affine`` map fitted to random data, both drawn
from the case's seed) for several steps through ``setup`` and ``update`` with the student's
rule, and records the raw trajectory: each parameter and each documented state tensor after
every step, one key per tensor. ``compare`` then judges it twice, in the grader's process:
against the reference rule's trajectory, and against ``torch.optim``'s counterpart run on the
same problem. Cases mix small and large ``epsilon`` and weight decay and several
hyperparameters, so that a wrong bias correction, ``epsilon`` inside the square root, a state
not carried forward or a weight decay coupled through Adam's scaling all show.

``warmup`` is checked on the rates it gives at every step, asked for in order and out of
order, before three kinds of schedule. ``Chain`` is checked like the rules, on chains of the
protocol's rules (one of them nested) under a schedule that lowers the rate through
``adjust`` at every step, so that links applied out of order, states not returned or an
``adjust`` that does not reach inside the chain all show.

This module must not import ``reference.py`` (the grader's sandbox hides it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from helpers.capabilities import OPTIMIZER_STEP, ready_made
from helpers.checking import CheckFailed, assert_close, check_of, compare_outputs
from helpers.exercise import Exercise, Registry, Visible
from helpers.rules import ASSIGNMENT
from helpers.rules.affine import Affine, mse_distance
from helpers.rules.protocol import (
    ClipNorm,
    Descent,
    Momentum,
    RMSProp,
    Rule,
    WeightDecay,
    adjust,
    gradients,
    setup,
    update,
)
from helpers.rules.schedules import Schedule, constant, cosine_decay, step_decay

Case = dict[str, Any]
N_EXAMPLES = 12
SELF_CHECK_STEPS = 5
SELF_CHECK_SEED = 4

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
            raise CheckFailed(
                "state missing",
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
            raise CheckFailed(
                check_of(error), f"`{exercise}` {_describe_case(case)}: {error} {hint}"
            ) from None

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


def _self_check_case(exercise: str) -> Case:
    return {
        "seed": 4,
        "scale": 1.5,
        "steps": SELF_CHECK_STEPS,
        "hyper": SELF_CHECK_CASES[exercise],
        "operations": 40 * SELF_CHECK_STEPS,
    }


def _visible(exercise: str) -> Visible:
    """One small problem; torch.optim gives the right numbers there too, but no points."""
    case = _self_check_case(exercise)
    return Visible(
        success=f"Your `{exercise}` takes the same {SELF_CHECK_STEPS} steps as the reference "
        f"and as torch.optim on a small problem {_describe_case(case)}. The grader tries more.",
        cases=lambda: [case],
    )


def _run(state_tensors: Callable[[Any], Iterable[tuple[str, Any]]]) -> Callable:
    def run_case(implementation: Any, case: Case) -> dict[str, Tensor]:
        return trajectory(implementation, case, state_tensors)

    return run_case


def _exercise(name: str, points: int, draw: Callable, state_tensors: Callable) -> Exercise:
    return Exercise(
        name=name,
        reference=f"helpers.rules.reference:{name}",
        points=points,
        visible=_visible(name),
        draw_cases=draw,
        run_case=_run(state_tensors),
        compare=make_compare(name),
        forbids=(OPTIMIZER_STEP,),
    )


# --------------------------------------------------------------------------------------
# Exercise 5: warmup, a schedule
# --------------------------------------------------------------------------------------

WARMUP_IN_ORDER = "learning rate at t = 0, 1, 2, ..."
WARMUP_SHUFFLED = "learning rate at the same steps, asked for in another order"
WARMUP_AFTER = ("constant", "cosine", "step")


def draw_warmup_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for index, after in enumerate(WARMUP_AFTER):
        steps = int(rng.integers(3, 30))
        cases.append({
            "seed": int(rng.integers(2**31)),
            "after": after,
            "lr": _log_uniform(rng, 1e-3, 1.0),
            "after_steps": int(rng.integers(5, 60)),
            "gamma": float(rng.uniform(0.2, 0.8)),
            "steps": steps,
            # the first case leaves start_factor at its default
            "start_factor": (
                None if index == 0 else float(rng.choice([0.0, rng.uniform(0.01, 0.5)]))
            ),
            "horizon": steps + int(rng.integers(10, 60)),
        })
    return cases


def after_schedule(case: Case) -> Schedule:
    """The schedule a warm-up case hands over to (a course schedule, not the exercise)."""
    lr, length = case["lr"], case["after_steps"]
    if case["after"] == "constant":
        return constant(lr)
    if case["after"] == "cosine":
        return cosine_decay(lr, length, lr_min=0.1 * lr)
    return step_decay(lr, case["gamma"], every=max(length // 3, 1))


def run_warmup_case(implementation: Callable, case: Case) -> dict[str, Tensor]:
    keywords = {} if case["start_factor"] is None else {"start_factor": case["start_factor"]}
    schedule = implementation(after_schedule(case), case["steps"], **keywords)
    steps = range(case["horizon"])
    order = np.random.default_rng(case["seed"]).permutation(case["horizon"])
    in_order = torch.tensor([float(schedule(t)) for t in steps], dtype=torch.float64)
    shuffled = torch.empty(case["horizon"], dtype=torch.float64)
    shuffled[order] = torch.tensor([float(schedule(int(t))) for t in order], dtype=torch.float64)
    return {WARMUP_IN_ORDER: in_order, WARMUP_SHUFFLED: shuffled}


def _warmup_hint(case: Case, actual: np.ndarray, expected: np.ndarray) -> str:
    """Where the rates go wrong, in words: the start, the ramp, or the hand-over."""
    steps = case["steps"]
    wrong = ~np.isclose(actual, expected, rtol=1e-9, atol=1e-15)
    if wrong[0]:
        given = "0.1, its default" if case["start_factor"] is None else "as given"
        return ("At t = 0 the rate is start_factor * after(0): the ramp starts there "
                f"(start_factor {given}).")
    if wrong[:steps].any():
        return ("During the ramp (t < steps) the rate rises linearly from start_factor * "
                "after(0) at t = 0 towards after(0), which it reaches at t = steps: the factor "
                "is start_factor + (1 - start_factor) * t / steps.")
    return ("From t = steps on the rate is after(t - steps): the schedule `after` starts "
            "where the ramp ends, at its own step 0.")


def compare_warmup_case(case: Case, actual: dict, expected: dict) -> None:
    after = f"`warmup` over {case['steps']} steps before a {case['after']} schedule"
    for what in (WARMUP_IN_ORDER, WARMUP_SHUFFLED):
        if tuple(actual[what].shape) != tuple(expected[what].shape):
            raise CheckFailed(
                "not one rate per step", f"{after}: the schedule should return one number per step."
            )
    rates, correct = actual[WARMUP_IN_ORDER].numpy(), expected[WARMUP_IN_ORDER].numpy()
    if not np.all(np.isfinite(rates)):
        raise CheckFailed("NaN or infinite rates", f"{after} gives NaN or infinite learning rates.")
    if not np.allclose(rates, correct, rtol=1e-9, atol=1e-15):
        raise CheckFailed("wrong learning rates", f"{after} gives wrong learning rates. "
                             f"{_warmup_hint(case, rates, correct)}")
    if not np.allclose(actual[WARMUP_SHUFFLED].numpy(), correct, rtol=1e-9, atol=1e-15):
        raise CheckFailed(
            "rate depends on the calls' order",
            f"{after}: asked for the same steps in another order, the schedule answers "
            "differently. Its rate must depend on t alone (the loop may ask for any step, in "
            "any order, any number of times): compute it from t, do not count calls."
        )


# --------------------------------------------------------------------------------------
# Exercise 6: Chain, rules composed
# --------------------------------------------------------------------------------------

CHAIN_LINKS = {
    "Descent": lambda rng: Descent(lr=_log_uniform(rng, 0.01, 0.1)),
    "Momentum": lambda rng: Momentum(lr=_log_uniform(rng, 0.005, 0.05),
                                     beta=float(rng.uniform(0.5, 0.95))),
    "RMSProp": lambda rng: RMSProp(lr=_log_uniform(rng, 0.005, 0.05),
                                   alpha=float(rng.uniform(0.8, 0.99))),
    "WeightDecay": lambda rng: WeightDecay(_log_uniform(rng, 0.05, 0.5)),
    "ClipNorm": lambda rng: ClipNorm(_log_uniform(rng, 0.05, 0.5)),
}
# Each case's links, in order; a nested list is a chain inside the chain. Every one has a
# rule with a learning rate (for the schedule) and an order that matters.
CHAIN_SHAPES = (
    ["WeightDecay", "ClipNorm", "Momentum"],
    ["RMSProp", "WeightDecay"],
    [["ClipNorm", "Momentum"], "WeightDecay"],
    ["ClipNorm", "Descent", "WeightDecay"],
)


def _link(rng: np.random.Generator, shape: Any) -> dict:
    """A chain's description as plain data: each link's class and hyperparameters."""
    if isinstance(shape, list):
        return {"chain": [_link(rng, inner) for inner in shape]}
    rule = CHAIN_LINKS[shape](rng)
    return {"rule": shape, "hyper": dict(rule._items())}


def draw_chain_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for index in rng.choice(len(CHAIN_SHAPES), size=3, replace=False):
        steps = int(rng.integers(6, 12))
        cases.append({
            **_case(rng, {}, steps),
            "links": _link(rng, CHAIN_SHAPES[int(index)])["chain"],
            # the schedule multiplies every rate by this factor per step, through adjust
            "decay": float(rng.uniform(0.7, 0.95)),
        })
    return cases


RULE_CLASSES = {
    "Descent": Descent, "Momentum": Momentum, "RMSProp": RMSProp,
    "WeightDecay": WeightDecay, "ClipNorm": ClipNorm,
}


def _build_chain(chain_class: type, links: list[dict]) -> Rule:
    rules = [_build_chain(chain_class, link["chain"]) if "chain" in link
             else RULE_CLASSES[link["rule"]](**link["hyper"]) for link in links]
    return chain_class(*rules)


def _link_states(state: Any, links: list[dict], prefix: str) -> list[tuple[str, Any]]:
    """Every tensor of a chain's state, named by the link it belongs to, when the state has
    the documented layout (a tuple, or a list, with one entry per link)."""
    if not isinstance(state, (tuple, list)) or len(state) != len(links):
        return []
    found = []
    for number, (link, part) in enumerate(zip(links, state), start=1):
        name = f"{prefix}link {number}"
        if "chain" in link:
            found += _link_states(part, link["chain"], f"{name}, ")
        elif isinstance(part, Tensor):
            found.append((f"state of {name} ({link['rule']})", part))
    return found


def _rates(links: list[dict]) -> list[float]:
    return [rate for link in links
            for rate in (_rates(link["chain"]) if "chain" in link else [link["hyper"].get("lr")])
            if rate is not None]


def run_chain_case(implementation: type, case: Case) -> dict[str, Tensor]:
    """Train with the chain for ``case["steps"]`` steps, lowering every learning rate in it by
    ``case["decay"]`` per step through ``adjust``; record each link's state tensors and the
    parameters after every step."""
    base_lr = _rates(case["links"])[0]
    model, inputs, targets = problem(case)
    state = setup(_build_chain(implementation, case["links"]), model)
    outputs: dict[str, Tensor] = {}
    for step in range(1, case["steps"] + 1):
        if step > 1:
            try:
                state = adjust(state, lr=base_lr * case["decay"] ** (step - 1))
            except ValueError as error:  # no rule of the chain admits to having an lr
                raise CheckFailed(
                    "adjust refused",
                    f"`Chain`: adjust(state, lr=...) refused: {error} `hyperparameters` should "
                    "return the names of every rule's hyperparameters in the chain (their "
                    "union), so that adjust can find the learning rate inside it."
                ) from None
        loss = mse_distance(model(inputs), targets)
        state, model = update(state, model, gradients(loss, model))
        for name, leaf in state.items():
            for label, tensor in _link_states(leaf.state, case["links"], ""):
                outputs[f"{label} of {name} after step {step}"] = tensor.detach().clone()
        for name, param in model.named_parameters():
            outputs[f"{name} after step {step}"] = param.detach().clone()
    return outputs


def _describe_chain(links: list[dict]) -> str:
    return "Chain(" + ", ".join(
        _describe_chain(link["chain"]) if "chain" in link else link["rule"] for link in links
    ) + ")"


def compare_chain_case(case: Case, actual: dict, expected: dict) -> None:
    where = f"{_describe_chain(case['links'])}, {case['steps']} steps with a decaying lr"
    missing = [key for key in expected if key not in actual]
    if missing:
        raise CheckFailed(
            "state missing",
            f"`Chain` ({where}): {missing[0]} is missing: the state should be a tuple with "
            "one entry per rule, each that rule's own state, in the chain's order."
        )
    try:
        compare_outputs(actual, expected, size=case["operations"])
    except AssertionError as error:
        raise CheckFailed(
            check_of(error), f"`Chain` ({where}): {error} {_chain_hint(error)}"
        ) from None


def _chain_hint(error: AssertionError) -> str:
    """What to check, from the first output that differs (outputs are named "... after
    step k", states before parameters)."""
    message = str(error)
    if "after step 1 " not in message:
        return ("The first step is right, later ones are not: check that `adjust` returns a "
                "new Chain whose rules are each adjusted (the test lowers lr through adjust "
                "before every later step), and that `apply` returns every rule's new state.")
    if message.startswith("State"):
        return ("Check that `apply` returns the new state of every rule, in the chain's "
                "order, and that each rule receives the previous rule's output (the first one "
                "the gradient).")
    return ("Check that the rules are applied in the chain's order, that each rule receives "
            "the previous rule's output (the first one the gradient) and the param as it was "
            "given, and that the step returned is the last rule's output.")


def self_check_chain_cases() -> list[Case]:
    """Four chains (one nested), with a schedule adjusting their rates."""
    rng = np.random.default_rng(SELF_CHECK_SEED)
    return [
        {**_case(rng, {}, SELF_CHECK_STEPS), "links": _link(rng, shape)["chain"], "decay": 0.8}
        for shape in CHAIN_SHAPES
    ]


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
    " freeze, gradients, setup, thaw, update, update_",
    "from helpers.rules.schedules import constant, cosine_decay, step_decay",
    "from helpers.rules import checks",
)

EXERCISES = Registry(
    ASSIGNMENT,
    _exercise("Nesterov", 2, draw_nesterov_cases, _velocity),
    _exercise("Adagrad", 2, draw_adagrad_cases, _square_sum),
    _exercise("Adam", 3, draw_adam_cases, _moments),
    _exercise("AdamW", 3, draw_adamw_cases, _moments),
    Exercise(
        name="warmup",
        reference="helpers.rules.reference:warmup",
        points=2,
        visible=Visible(
            success="Your `warmup` gives the right rates before a constant, a cosine and a step "
            "schedule, asked for in order and out of order. The grader tries more.",
            cases=lambda: draw_warmup_cases(np.random.default_rng(SELF_CHECK_SEED)),
        ),
        draw_cases=draw_warmup_cases,
        run_case=run_warmup_case,
        compare=compare_warmup_case,
        forbids=(ready_made("the course's warm-up", "helpers.rules.schedules:warmup"),),
    ),
    Exercise(
        name="Chain",
        reference="helpers.rules.reference:Chain",
        points=3,
        visible=Visible(
            success=f"Your `Chain` takes the same {SELF_CHECK_STEPS} steps as the reference in "
            "four chains (one nested), with a schedule adjusting their rates. The grader tries "
            "more.",
            cases=self_check_chain_cases,
        ),
        draw_cases=draw_chain_cases,
        run_case=run_chain_case,
        compare=compare_chain_case,
        forbids=(
            ready_made(
                "the course's chain of rules",
                "helpers.rules.protocol:Chain",
                "helpers.rules.protocol:chain",
            ),
        ),
    ),
    setup=SETUP,
)
self_check, hidden_check = EXERCISES.self_check, EXERCISES.hidden_check
