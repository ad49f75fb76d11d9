"""Every number and equivalence that notebook 04's prose states about the rules themselves,
recomputed with the course's own rules (the reference answers, the protocol's rules and the
realistic wrong answers of ``variants_rules``); the claims about the demos are in
``test_rules_demos.py``.
"""

from __future__ import annotations

import math

import nbformat
import numpy as np
import pytest
import torch
import variants_rules

from helpers.rules import demos
from helpers.rules.protocol import Descent, Momentum, Rule, setup, update, update_
from helpers.rules.reference import Adagrad, Adam, AdamW, Nesterov
from helpers.rules.schedules import cosine_decay
from helpers.solution_cells import load_solution
from instructor.notebook import setup_imports
from instructor.settings import REPO_ROOT

PRELUDE = setup_imports(
    nbformat.read(REPO_ROOT / "solutions/04_optimizer_rules/optimizer_rules.ipynb", 4)
)
SLIDER = [10 ** (-4 + 0.1 * k) for k in range(31)]  # the demo's lr slider: 1e-4 to 0.1
STEEP = 50.0  # the ill-conditioned quadratic's larger curvature


def _wrong(exercise: str, label: str) -> type:
    """A realistic wrong answer, loaded the way the grader loads a submission."""
    source = variants_rules.WRONG[exercise][label]
    return load_solution(exercise, [source], PRELUDE)


def _steps_on_a_constant_gradient(rule: Rule, count: int) -> np.ndarray:
    """The step sizes, in units of ``rule.lr``, of ``count`` steps on the gradient 1."""
    param = torch.zeros(1, dtype=torch.float64)
    grad = torch.ones(1, dtype=torch.float64)
    state, steps = rule.init(param), []
    for _ in range(count):
        state, step = rule.apply(state, param, grad)
        steps.append(step.item() / rule.lr)
    return np.array(steps)


# --------------------------------------------------------------------------------------
# Exercise 3: what the bias correction is worth
# --------------------------------------------------------------------------------------


def test_with_both_corrections_every_step_on_a_constant_gradient_is_exactly_lr():
    steps = _steps_on_a_constant_gradient(Adam(lr=0.01, epsilon=0.0), 2000)
    np.testing.assert_allclose(steps, 1.0, rtol=1e-12)


def test_without_correction_steps_are_3_2_lr_peak_6_6_at_t_12_and_stay_above_3_until_t_100():
    """"3.2 eta at t = 1, about 6.6 eta at its peak (t = 12), still above 3 eta at t = 100,
    and within 10% of eta only after about 1,750 steps"."""
    uncorrected = _wrong("Adam", "no_bias_correction")(lr=0.01, epsilon=0.0)
    steps = _steps_on_a_constant_gradient(uncorrected, 3000)
    assert round(steps[0], 1) == 3.2
    assert int(np.argmax(steps)) + 1 == 12 and round(steps.max(), 1) == 6.6
    assert steps[99] > 3
    within_ten_percent = int(np.argmax(steps < 1.1)) + 1
    assert 1700 <= within_ten_percent <= 1800
    assert np.all(steps[within_ten_percent - 1 :] < 1.1)


def test_correcting_m_alone_makes_the_first_step_about_32_lr():
    m_only = _wrong("Adam", "bias_correction_of_m_only")(lr=0.01, epsilon=0.0)
    first = _steps_on_a_constant_gradient(m_only, 1)[0]
    assert first == pytest.approx(1 / math.sqrt(1 - 0.999)) and round(first) == 32


# --------------------------------------------------------------------------------------
# Exercises 2 and 3: where epsilon goes
# --------------------------------------------------------------------------------------


def _first_adagrad_step(rule_class: type, gradient: float) -> float:
    rule = rule_class(lr=1.0, epsilon=1e-10)
    param = torch.zeros(1, dtype=torch.float64)
    _, step = rule.apply(rule.init(param), param, torch.tensor([gradient], dtype=torch.float64))
    return step.item()


def test_epsilon_after_the_root_gives_0_9999_lr_and_inside_about_0_1_lr_for_a_gradient_1e_6():
    inside = _wrong("Adagrad", "epsilon_inside_the_square_root")
    assert round(_first_adagrad_step(Adagrad, 1e-6), 4) == 0.9999
    assert round(_first_adagrad_step(inside, 1e-6), 1) == 0.1


def test_epsilon_placement_does_not_matter_where_the_root_is_large():
    inside = _wrong("Adagrad", "epsilon_inside_the_square_root")
    for gradient in (1e-2, 1.0, 100.0):
        after = _first_adagrad_step(Adagrad, gradient)
        assert after == pytest.approx(_first_adagrad_step(inside, gradient), rel=1e-5)


# --------------------------------------------------------------------------------------
# Exercise 1: Nesterov's look-ahead
# --------------------------------------------------------------------------------------


def test_nesterovs_parameters_are_the_classical_methods_look_ahead_points():
    """theta_{t+1} = theta_t - v_{t+1}, v_{t+1} = beta v_t + lr grad(theta_t - beta v_t)
    (Sutskever et al.): the rule's parameters are w_t = theta_t - beta v_t, with the same v."""
    gradient = demos.rosenbrock_gradient
    lr, beta = 1e-3, 0.9
    theta = torch.tensor([-1.5, 2.0], dtype=torch.float64)
    v = torch.zeros(2, dtype=torch.float64)
    rule = Nesterov(lr=lr, beta=beta)
    w = theta.clone()
    state = rule.init(w)
    for _ in range(200):
        v = beta * v + lr * gradient(theta - beta * v)
        theta = theta - v
        old_velocity = state
        state, step = rule.apply(state, w, gradient(w))
        w = w - step
        torch.testing.assert_close(state, v)
        torch.testing.assert_close(w, theta - beta * v)
        torch.testing.assert_close(step, (1 + beta) * state - beta * old_velocity)


# --------------------------------------------------------------------------------------
# Exercise 4: the two weight-decay conventions of AdamW
# --------------------------------------------------------------------------------------


def test_papers_adamw_equals_torchs_when_its_decay_is_divided_by_the_base_rate():
    """Loshchilov and Hutter's Algorithm 2, step = s_t (alpha adam + lambda w), takes the
    steps of PyTorch's step = eta_t (adam + lambda' w) with eta_t = alpha s_t and
    lambda' = lambda / alpha, under a schedule."""
    alpha, paper_decay, steps = 1e-2, 1e-3, 60
    multiplier = cosine_decay(1.0, steps)
    torch_convention = AdamW(lr=alpha, weight_decay=paper_decay / alpha)
    adam = Adam(lr=1.0)  # the paper's Adam direction, m_hat / (sqrt(v_hat) + eps)
    generator = torch.Generator().manual_seed(0)
    w_paper = w_torch = torch.randn(5, dtype=torch.float64, generator=generator)
    adam_state, torch_state = adam.init(w_paper), torch_convention.init(w_torch)
    for t in range(steps):
        grad = torch.randn(5, dtype=torch.float64, generator=generator)
        adam_state, direction = adam.apply(adam_state, w_paper, grad)
        w_paper = w_paper - multiplier(t) * (alpha * direction + paper_decay * w_paper)
        rule = torch_convention.adjust(lr=alpha * multiplier(t))
        torch_state, step = rule.apply(torch_state, w_torch, grad)
        w_torch = w_torch - step
        torch.testing.assert_close(w_torch, w_paper)


def test_torchs_adamw_shrinks_the_parameters_by_1_minus_lr_times_decay_when_the_gradient_is_zero():
    rule = AdamW(lr=0.1, weight_decay=0.5)
    param = torch.tensor([2.0, -4.0], dtype=torch.float64)
    _, step = rule.apply(rule.init(param), param, torch.zeros(2, dtype=torch.float64))
    torch.testing.assert_close(param - step, (1 - 0.1 * 0.5) * param)


# --------------------------------------------------------------------------------------
# Section 1: the rule protocol
# --------------------------------------------------------------------------------------


class _ChangesParamInPlace(Rule):
    """Gradient descent whose ``apply`` also moves ``param`` itself: the protocol forbids it."""

    def __init__(self, lr: float = 0.1) -> None:
        super().__init__(lr=lr)

    def init(self, param):
        return None

    def apply(self, state, param, grad):
        param.sub_(self.lr * grad)
        return None, self.lr * grad


@pytest.mark.parametrize("step", [update, update_])
def test_an_apply_that_changes_param_in_place_moves_it_twice(step):
    model = demos.Point((1.0, 1.0))
    state = setup(_ChangesParamInPlace(0.1), model)
    _, moved = step(state, model, {"xy": torch.ones(2, dtype=torch.float64)})
    torch.testing.assert_close(moved.xy.detach(), torch.full((2,), 0.8, dtype=torch.float64))


def test_a_fresh_state_has_taken_no_steps_and_the_first_step_counts_as_t_1():
    rule = Adam(lr=0.1)
    state = rule.init(torch.zeros(1))
    assert state[2] == 0
    state, _ = rule.apply(state, torch.zeros(1), torch.ones(1))
    assert state[2] == 1


# --------------------------------------------------------------------------------------
# Section 7: stability bounds on a quadratic
# --------------------------------------------------------------------------------------


def _iteration_matrix(rule_class: type, lr: float, beta: float, curvature: float) -> np.ndarray:
    """The linear map (w, v) -> (w', v') of one step of ``rule_class`` on f(w) = c w^2 / 2,
    read off the rule itself by stepping from the two unit states."""
    rule = rule_class(lr=lr, beta=beta)
    columns = []
    for w, v in ((1.0, 0.0), (0.0, 1.0)):
        param = torch.tensor([w], dtype=torch.float64)
        velocity = torch.tensor([v], dtype=torch.float64)
        velocity, step = rule.apply(velocity, param, curvature * param)
        columns.append([(param - step).item(), velocity.item()])
    return np.array(columns).T


def _spectral_radius(matrix: np.ndarray) -> float:
    return float(np.abs(np.linalg.eigvals(matrix)).max())


BOUNDS = {
    "Momentum": (Momentum, lambda beta, c: 2 * (1 + beta) / c),
    "Nesterov": (Nesterov, lambda beta, c: 2 * (1 + beta) / ((1 + 2 * beta) * c)),
}


@pytest.mark.parametrize("name", list(BOUNDS))
@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9, 0.99])
def test_momentum_and_nesterov_are_stable_exactly_below_their_bounds(name, beta):
    rule_class, bound = BOUNDS[name]
    limit = bound(beta, STEEP)
    assert _spectral_radius(_iteration_matrix(rule_class, 0.999 * limit, beta, STEEP)) < 1
    assert _spectral_radius(_iteration_matrix(rule_class, 1.001 * limit, beta, STEEP)) > 1


@pytest.mark.parametrize("name", list(BOUNDS))
def test_the_quoted_characteristic_polynomials_are_those_of_the_rules(name):
    """z^2 - (1 + beta - a) z + beta (Momentum), z^2 - (1 + beta)(1 - a) z + beta (1 - a)
    (Nesterov), with a = eta lambda."""
    rule_class, _ = BOUNDS[name]
    lr, beta = 0.013, 0.9
    a = lr * STEEP
    expected = {
        "Momentum": [1, -(1 + beta - a), beta],
        "Nesterov": [1, -(1 + beta) * (1 - a), beta * (1 - a)],
    }[name]
    np.testing.assert_allclose(np.poly(_iteration_matrix(rule_class, lr, beta, STEEP)), expected)


def test_the_bounds_at_beta_0_9_are_0_04_0_076_and_0_0271():
    assert 2 / STEEP == pytest.approx(0.04)
    assert BOUNDS["Momentum"][1](0.9, STEEP) == pytest.approx(0.076)
    assert round(BOUNDS["Nesterov"][1](0.9, STEEP), 4) == 0.0271


def _diverges(rule: Rule) -> bool:
    _, losses = demos.optimize_2d("ill-conditioned quadratic", rule, 300)
    return demos.loss_diverged_at(losses) is not None or not losses[-1] < losses[0]


@pytest.mark.parametrize(
    ("name", "rule_class", "last_converging"),
    [("Nesterov", Nesterov, 0.0251), ("Descent", Descent, 0.0398), ("Momentum", Momentum, 0.0631)],
)
def test_on_the_slider_each_rule_converges_up_to_its_bound_and_diverges_at_the_next_value(
    name, rule_class, last_converging
):
    """Task 1: "Nesterov still converges at 0.0251 and diverges at 0.0316; Descent converges at
    0.0398 and diverges at 0.0501; Momentum converges at 0.0631 and diverges at 0.0794"."""
    index = next(k for k, lr in enumerate(SLIDER) if round(lr, 4) == last_converging)

    def make(lr: float) -> Rule:
        return Descent(lr) if rule_class is Descent else rule_class(lr=lr, beta=0.9)

    assert all(not _diverges(make(lr)) for lr in SLIDER[: index + 1]), name
    assert all(_diverges(make(lr)) for lr in SLIDER[index + 1 :]), name
    assert round(SLIDER[index + 1], 4) == {"Nesterov": 0.0316, "Descent": 0.0501}.get(
        name, 0.0794
    )
