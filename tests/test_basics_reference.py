"""The reference answers of notebook 01, the numbers its text quotes, and the helpers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers.basics import reference
from helpers.basics.loops import fit_with_progress
from helpers.basics.polynomial import (
    DynamicPolynomial,
    Polynomial3,
    coefficients_of,
    cubic_features,
    initial_coefficients,
    largest_stable_lr,
    least_squares,
    legendre_to_cubic,
    linear_cubic_model,
    sine_data,
    sine_data_numpy,
    vandermonde,
)


def test_cubic_gradients_match_autograd_when_coefficients_are_random():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-3, 3, 100), rng.standard_normal(100)
    coefficients = rng.standard_normal(4)
    theta = torch.tensor(coefficients, requires_grad=True)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    ((theta[0] + theta[1] * xs + theta[2] * xs**2 + theta[3] * xs**3 - ys) ** 2).sum().backward()
    gradients = reference.cubic_gradients(x, y, *coefficients)
    np.testing.assert_allclose(gradients, theta.grad, rtol=1e-10)


def test_cubic_gradients_returns_python_floats():
    grads = reference.cubic_gradients(np.linspace(-1, 1, 5), np.zeros(5), 1.0, 2.0, 3.0, 4.0)
    assert len(grads) == 4 and all(type(g) is float for g in grads)


def test_legendre_backward_passes_gradcheck_when_in_double_precision():
    x = torch.randn(20, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(reference.LegendrePolynomial3.apply, (x,))


def test_legendre_forward_is_the_third_legendre_polynomial():
    x = torch.linspace(-1, 1, 11, dtype=torch.float64)
    expected = torch.from_numpy(np.polynomial.legendre.legval(x.numpy(), [0, 0, 0, 1]))
    torch.testing.assert_close(reference.LegendrePolynomial3.apply(x), expected)


def test_closed_form_optimum_is_about_8_82_when_data_is_the_default():
    for x, y in (sine_data_numpy(), sine_data(dtype=torch.float64), sine_data()):
        coefficients, loss = least_squares(x, y)
        assert loss == pytest.approx(8.8172, abs=1e-3)
        assert coefficients[1] == pytest.approx(0.8567, abs=1e-4)
        assert coefficients[3] == pytest.approx(-0.0933, abs=1e-4)
        assert abs(coefficients[0]) < 1e-8 and abs(coefficients[2]) < 1e-8


def test_largest_stable_lr_is_about_3_56e_minus_6_and_the_condition_number_about_300():
    x, _ = sine_data()
    assert largest_stable_lr(x) == pytest.approx(3.56e-6, rel=2e-3)
    eigenvalues = np.linalg.eigvalsh(vandermonde(x).T @ vandermonde(x))
    assert 300 < eigenvalues[-1] / eigenvalues[0] < 350  # "about 300 times smaller"


def test_gradient_descent_converges_below_the_limit_and_diverges_above_it():
    x, y = sine_data(dtype=torch.float64)
    limit = largest_stable_lr(x)
    for factor, converges in ((0.95, True), (1.05, False)):
        model = Polynomial3(initial_coefficients(2021)).double()
        optimizer = torch.optim.SGD(model.parameters(), lr=factor * limit)
        history = reference.fit_polynomial(model, x, y, optimizer, 500)
        assert (history[-1] < history[0]) == converges


def test_fit_polynomial_matches_a_hand_written_loop_when_optimizer_is_sgd():
    x, y = sine_data(points=200, dtype=torch.float64)
    start = initial_coefficients(1)
    model = Polynomial3(start).double()
    theta = torch.tensor(model.coefficients(), dtype=torch.float64, requires_grad=True)
    history = reference.fit_polynomial(
        model, x, y, torch.optim.SGD(model.parameters(), lr=1e-5), 30
    )
    losses = []
    for _ in range(30):
        loss = ((theta[0] + theta[1] * x + theta[2] * x**2 + theta[3] * x**3 - y) ** 2).sum()
        losses.append(loss.item())
        (grad,) = torch.autograd.grad(loss, theta)
        with torch.no_grad():
            theta -= 1e-5 * grad
    np.testing.assert_allclose(history, losses, rtol=1e-12)
    np.testing.assert_allclose(model.coefficients(), theta.detach(), rtol=1e-12)


def test_linear_cubic_model_computes_the_same_cubic_as_polynomial3():
    start = initial_coefficients(2)
    x, _ = sine_data(points=50)
    torch.testing.assert_close(linear_cubic_model(start)(cubic_features(x)), Polynomial3(start)(x))
    np.testing.assert_allclose(coefficients_of(linear_cubic_model(start)), start, rtol=1e-6)


def test_cubic_features_are_the_first_three_powers():
    features = cubic_features(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert features.shape == (4, 3)
    torch.testing.assert_close(features[1], torch.tensor([2.0, 4.0, 8.0]))


def test_legendre_to_cubic_expands_the_legendre_model_exactly():
    a, b, c, d = 0.1, -2.0, 0.3, 0.25
    x = torch.linspace(-3, 3, 40, dtype=torch.float64)
    legendre = a + b * reference.LegendrePolynomial3.apply(c + d * x)
    a3, b3, c3, d3 = legendre_to_cubic(a, b, c, d)
    torch.testing.assert_close(legendre, a3 + b3 * x + c3 * x**2 + d3 * x**3)


def _as_legendre(p0: float, p1: float, p2: float, p3: float) -> tuple[float, ...] | None:
    """(a, b, c, d) with a + b P3(c + d x) equal to the cubic, or None if there is none.

    Around its inflection point x0 the cubic is p3 (x - x0)^3 + k (x - x0) + q(x0), and
    b P3(d (x - x0)) has k / p3 = -3 / (5 d^2) < 0: possible exactly when p2^2 > 3 p1 p3.
    """
    x0 = -p2 / (3 * p3)
    k = p1 - p2**2 / (3 * p3)
    if k / p3 >= 0:
        return None
    d = math.sqrt(-3 * p3 / (5 * k))
    return p0 + p1 * x0 + p2 * x0**2 + p3 * x0**3, -2 * k / (3 * d), -d * x0, d


def test_a_cubic_is_a_legendre_model_exactly_when_it_has_a_local_maximum_and_minimum():
    """Section 5: "not every cubic can be written this way"; "exactly the constants and the
    cubics with a local maximum and a local minimum"."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        cubic = rng.standard_normal(4)
        has_two_extrema = cubic[2] ** 2 > 3 * cubic[1] * cubic[3]  # p'(x) has two real roots
        legendre = _as_legendre(*cubic)
        assert (legendre is not None) == has_two_extrema
        if legendre is not None:
            np.testing.assert_allclose(legendre_to_cubic(*legendre), cubic, atol=1e-9)
    assert _as_legendre(0.0, 1.0, 0.0, 1.0) is None  # x + x^3
    for b, d in rng.standard_normal((50, 2)):  # c = 0: x and x^3 have opposite signs
        _, linear, _, cubic_term = legendre_to_cubic(0.0, b, 0.0, d)
        assert linear * cubic_term < 0


def test_the_best_cubic_of_the_data_is_a_legendre_model_with_d_0_256_and_b_minus_2_23():
    """Section 5: "0.857 x - 0.093 x^3 ... a = c = 0, d about 0.256, b about -2.23"."""
    best, _ = least_squares(*sine_data_numpy())
    a, b, c, d = _as_legendre(*best)
    assert abs(a) < 1e-8 and abs(c) < 1e-8
    assert round(d, 3) == 0.256 and round(b, 2) == -2.23


def test_the_notebooks_legendre_fit_lands_on_the_best_cubic():
    """Section 5: "the Legendre model lands on the same coefficients as the plain cubic"
    (5,000 steps of 5e-6 from (0, -1, 0, 0.3), as in the notebook)."""
    x, y = sine_data()
    best, best_loss = least_squares(x, y)
    coefficients = [torch.tensor(v, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3)]
    a, b, c, d = coefficients
    for _ in range(5000):
        loss = ((a + b * reference.LegendrePolynomial3.apply(c + d * x) - y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            for w in coefficients:
                w -= 5e-6 * w.grad
                w.grad = None
    np.testing.assert_allclose(legendre_to_cubic(*(w.item() for w in coefficients)), best,
                               atol=1e-3)
    assert loss.item() - best_loss < 1e-3
    assert round(d.item(), 3) == 0.256 and round(b.item(), 2) == -2.23


def test_accumulated_chunk_gradients_are_the_batch_gradient_for_a_sum_and_k_times_it_for_a_mean():
    """Think! 3: with a mean loss, divide each of the k chunks' losses by k."""
    x, y = sine_data(dtype=torch.float64)
    chunks = 4

    def accumulated(reduction: str, divide_by: float) -> torch.Tensor:
        model = Polynomial3(initial_coefficients(2021)).double()
        loss_fn = torch.nn.MSELoss(reduction=reduction)
        for x_chunk, y_chunk in zip(x.chunk(chunks), y.chunk(chunks)):
            (loss_fn(model(x_chunk), y_chunk) / divide_by).backward()
        return torch.cat([p.grad.flatten() for p in model.parameters()])

    def whole(reduction: str) -> torch.Tensor:
        model = Polynomial3(initial_coefficients(2021)).double()
        torch.nn.MSELoss(reduction=reduction)(model(x), y).backward()
        return torch.cat([p.grad.flatten() for p in model.parameters()])

    torch.testing.assert_close(accumulated("sum", 1), whole("sum"))
    torch.testing.assert_close(accumulated("mean", 1), chunks * whole("mean"))
    torch.testing.assert_close(accumulated("mean", chunks), whole("mean"))


def test_a_backward_pass_costs_about_two_forward_passes_so_a_gradient_two_to_three():
    """Think! 4: "typically 2 to 3 evaluations in all, forward pass included (each matrix
    product costs two products of the same size going backwards)", counted in floating-point
    operations of a network of matrix products."""
    from torch.utils.flop_counter import FlopCounterMode

    from helpers.models import MLP

    for in_dim, hidden_dims in ((784, (256, 128)), (16, (256, 256, 256))):
        model = MLP(in_dim=in_dim, out_dim=10, hidden_dims=hidden_dims)
        inputs, targets = torch.randn(64, in_dim), torch.randint(0, 10, (64,))
        with FlopCounterMode(display=False) as forward:
            loss = torch.nn.functional.nll_loss(model(inputs), targets)
        with FlopCounterMode(display=False) as backward:
            loss.backward()
        ratio = backward.get_total_flops() / forward.get_total_flops()
        assert 1 <= ratio <= 2 and 2 <= 1 + ratio <= 3, (in_dim, hidden_dims)


def test_dynamic_polynomial_uses_all_three_degrees_and_repeats_when_seeded():
    x = torch.tensor([2.0])
    start = (0.0, 0.0, 0.0, 0.0, 1.0)
    outputs = [DynamicPolynomial(start, seed=5)(x).item() for _ in range(1)]
    model = DynamicPolynomial(start, seed=5)
    seen = {model(x).item() for _ in range(60)}
    assert seen == {0.0, 16.0, 48.0}  # nothing, x^4, or x^4 + x^5 at x = 2
    assert outputs[0] == DynamicPolynomial(start, seed=5)(x).item()


def test_dynamic_polynomial_shares_e_between_x4_and_x5():
    model = DynamicPolynomial((0.0, 0.0, 0.0, 0.0, 1.0), seed=0)
    x = torch.tensor([2.0])
    for _ in range(20):
        model.zero_grad()
        output = model(x)
        output.sum().backward()
        e_gradient = 0.0 if model.e.grad is None else model.e.grad.item()
        assert e_gradient == output.item()  # 16 + 32 when both terms are used, 0 when none


def test_polynomial3_string_names_every_coefficient():
    text = Polynomial3((1.0, -2.0, 0.5, 0.25)).string()
    assert text == "y = +1 -2 x +0.5 x^2 +0.25 x^3"


# The claims of the notebook's text about its own runs (same settings as the notebook).


def _fit_cubic(optimizer_factory, steps=5000):
    x, y = sine_data()
    model = linear_cubic_model(initial_coefficients(2021))
    history = reference.fit_polynomial(
        model, cubic_features(x), y, optimizer_factory(model.parameters()), steps
    )
    return history, coefficients_of(model)


def test_sgd_reaches_the_optimum_and_rmsprop_levels_off_above_it_after_5000_steps():
    optimum = least_squares(*sine_data())[1]
    sgd, coefficients = _fit_cubic(lambda p: torch.optim.SGD(p, lr=1e-6))
    rmsprop, _ = _fit_cubic(lambda p: torch.optim.RMSprop(p, lr=1e-3))
    assert sgd[-1] - optimum < 1e-3
    np.testing.assert_allclose(coefficients[1:4:2], (0.857, -0.093), atol=5e-4)
    assert rmsprop[-1] - optimum > 0.05
    assert np.argmax(np.array(rmsprop) < 100) > np.argmax(np.array(sgd) < 100)  # slower start


def test_central_differences_reach_ten_digits_in_double_and_about_five_in_single():
    def legendre_form_loss(d, x, y):
        u = d * x
        return ((-0.5 * (5 * u**3 - 3 * u) - y) ** 2).sum()

    x64, y64 = sine_data(dtype=torch.float64)
    d = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    legendre_form_loss(d, x64, y64).backward()
    best = {}
    for dtype in (torch.float32, torch.float64):
        x, y = sine_data(dtype=dtype)
        d0 = torch.tensor(0.3, dtype=dtype)
        errors = [
            abs(((legendre_form_loss(d0 + h, x, y) - legendre_form_loss(d0 - h, x, y)) / (2 * h))
                .item() - d.grad.item()) / abs(d.grad.item())
            for h in np.logspace(-8, -1, 15)
        ]
        best[dtype] = min(errors)
    assert best[torch.float64] < 1e-9
    assert 1e-7 < best[torch.float32] < 1e-4


def test_fit_with_progress_makes_the_same_run_as_one_call_when_split_in_chunks():
    x, y = sine_data(points=100, dtype=torch.float64)
    runs = []
    for split in (True, False):
        model = DynamicPolynomial(initial_coefficients(3, 5), seed=4).double()
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
        if split:
            history = fit_with_progress(reference.fit_polynomial, model, x, y, optimizer, 25, "t")
        else:
            history = reference.fit_polynomial(model, x, y, optimizer, 25)
        runs.append((history, model.coefficients()))
    assert runs[0] == runs[1]
