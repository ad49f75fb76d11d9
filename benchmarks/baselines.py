"""The straightforward way to compute what each demo computes: what `make bench` compares with.

Every function here returns the same numbers as a demo's compute function in ``helpers``
(``tests/test_baselines_agree.py`` checks it on small cases), written the way one would write
it first: a model copy per grid point or per direction, a fixed number of Newton iterations,
perturbed copies trained one at a time, one training run per recorded quantity, one rule at
a time.
``scripts/bench.py`` times each next to the demo, under the same thread settings.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from helpers.basics.polynomial import Polynomial3, initial_coefficients, sine_data
from helpers.data import TreeData
from helpers.deep_linear.network import LinearNet, TrainingRecord, total_map
from helpers.deep_linear.reference import initializer_
from helpers.models import MLP, parse_hidden_dims, perturb_parameters_
from helpers.optimization import demos
from helpers.optimization.landscape import BIAS_INDEX, WEIGHT_INDEX
from helpers.optimization.updates import UpdateFn, gradient_descent
from helpers.rules.affine import Affine, mse_distance
from helpers.rules.demos import (
    FUNCTIONS,
    RACE_MEASUREMENTS,
    RACE_SCHEDULES,
    Point,
    noisy_affine_data,
    race_schedule,
    relative_schedule,
)
from helpers.rules.protocol import Rule, adjust, gradients, setup, update_

NEWTON_ITERATIONS = 20  # a fixed count comfortably above what the slice needs (about 8)


# --------------------------------------------------------------------------------------
# Notebook 03: the two-parameter slice, through the whole model
# --------------------------------------------------------------------------------------


class SliceThroughModel:
    """The loss as a function of the free weight ``u`` and bias ``v`` (what ``LossSlice``
    computes), evaluated by writing them into a float64 copy of the model's parameters and
    running the whole model."""

    device = torch.device("cpu")

    def __init__(self, model: MLP, inputs: torch.Tensor, targets: torch.Tensor) -> None:
        self.probe = copy.deepcopy(model).double().cpu()
        self.features, self.targets = inputs.double().cpu(), targets.cpu()

    def __call__(self, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        weight = self.probe.main[0].weight.detach().clone()
        bias = self.probe.main[0].bias.detach().clone()
        weight[WEIGHT_INDEX] = u
        bias[BIAS_INDEX] = v
        moved = {"main.0.weight": weight, "main.0.bias": bias}
        output = torch.func.functional_call(self.probe, moved, (self.features,))
        return F.nll_loss(output, self.targets)


def loss_slice_grid(
    model: MLP, inputs: torch.Tensor, targets: torch.Tensor, extent: float = 4.0, points: int = 30
) -> np.ndarray:
    """``LossSlice.grid``'s loss values: a model copy per grid point, one forward pass each."""
    axis = torch.linspace(-extent, extent, points, dtype=torch.float64)
    loss = np.empty((points, points))
    with torch.no_grad():
        for row, v in enumerate(axis):
            for column, u in enumerate(axis):
                probe = copy.deepcopy(model).double()
                probe.main[0].weight[WEIGHT_INDEX] = u
                probe.main[0].bias[BIAS_INDEX] = v
                loss[row, column] = F.nll_loss(probe(inputs.double()), targets).item()
    return loss


def newton_fixed_iterations(
    model: MLP,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    start: tuple[float, float] = (0.0, 0.0),
    iterations: int = NEWTON_ITERATIONS,
) -> np.ndarray:
    """``newton_optimum``'s answer: the gradient and Hessian by autograd through the whole
    model, the same step halving, and a fixed number of iterations instead of a stopping test."""
    loss = SliceThroughModel(model, inputs, targets)

    def of_point(point: torch.Tensor) -> torch.Tensor:
        return loss(point[0], point[1])

    point = torch.tensor(start, dtype=torch.float64)
    for _ in range(iterations):
        gradient = torch.autograd.functional.jacobian(of_point, point)
        hessian = torch.autograd.functional.hessian(of_point, point)
        step = torch.linalg.solve(hessian, gradient)
        with torch.no_grad():
            current = of_point(point)
            while of_point(point - step) > current and step.norm() > 1e-12:
                step = step / 2
        point = point - step
    return point.numpy()


def momentum_vs_gd(
    model: MLP,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    gradient_update: UpdateFn,
    momentum_update: UpdateFn,
    steps: int = 300,
    lr: float = 0.1,
    beta: float = 0.9,
) -> dict[str, np.ndarray]:
    """``demos.momentum_vs_gd``'s paths on the real slice, the loss through the whole model."""
    loss = SliceThroughModel(model, inputs, targets)
    return demos.momentum_vs_gd(loss, gradient_update, momentum_update, steps, lr, beta)


# --------------------------------------------------------------------------------------
# Notebook 03: several models, one at a time
# --------------------------------------------------------------------------------------


def loss_changes(
    model: MLP,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    gradient_update: UpdateFn,
    lr: float = 1e-2,
    noise_scale: float = 1e-2,
    num_directions: int = 100,
) -> dict[str, np.ndarray | float]:
    """``demos.loss_changes``: a perturbed model copy per random direction."""
    with torch.no_grad():
        base_loss = F.nll_loss(model(inputs), targets).item()
        random_changes = []
        for _ in range(num_directions):
            moved = copy.deepcopy(model)
            perturb_parameters_(moved, noise_scale)
            random_changes.append(F.nll_loss(moved(inputs), targets).item() - base_loss)
    stepped = copy.deepcopy(model)
    rule = gradient_descent(gradient_update, lr=lr)
    params = list(stepped.parameters())
    rule.step(F.nll_loss(stepped(inputs), targets), params, rule.init_state(params))
    with torch.no_grad():
        gradient_change = F.nll_loss(stepped(inputs), targets).item() - base_loss
    return {"random": np.array(random_changes), "gradient": gradient_change}


def overparameterization(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    gradient_update: UpdateFn,
    hidden_dims: str = "10",
    lr: float = 5e-2,
    steps: int = 150,
    num_inits: int = 7,
    noise_scale: float = 0.2,
) -> dict[str, np.ndarray]:
    """``demos.overparameterization``: each perturbed copy trained on its own, one after another."""
    base = MLP(hidden_dims=parse_hidden_dims(hidden_dims)).to(inputs.device)
    rule = gradient_descent(gradient_update, lr=lr)
    losses = np.zeros((num_inits, steps))
    for run in range(num_inits):
        model = copy.deepcopy(base)
        perturb_parameters_(model, noise_scale)
        params = list(model.parameters())
        state = rule.init_state(params)
        for step in range(steps):
            loss = F.nll_loss(model(inputs), targets)
            losses[run, step] = loss.item()
            rule.step(loss, params, state)
    return {"losses": losses}


# --------------------------------------------------------------------------------------
# Notebook 02: one training run per recorded quantity
# --------------------------------------------------------------------------------------


Reading = Callable[[LinearNet, torch.Tensor, torch.Tensor, torch.Tensor], object]


def _tree_training_run(
    data: TreeData,
    lr: float,
    gamma: float,
    n_epochs: int,
    hidden_dim: int,
    init_seed: int,
    read: Reading,
) -> list:
    """One full-batch training run from the seeded start, ``read(model, output, hidden, loss)``
    kept every epoch."""
    inputs, targets = data.items, data.features
    model = LinearNet(inputs.shape[1], hidden_dim, targets.shape[1]).to(inputs.device)
    initializer_(model, gamma, generator=torch.Generator(inputs.device).manual_seed(init_seed))
    values = []
    for _ in range(n_epochs):
        model.zero_grad()
        output, hidden = model(inputs)
        loss = F.mse_loss(output, targets)
        loss.backward()
        with torch.no_grad():
            values.append(read(model, output, hidden, loss))
            for weight in model.parameters():
                weight -= lr * weight.grad
    return values


def _read_loss(
    model: LinearNet, output: torch.Tensor, hidden: torch.Tensor, loss: torch.Tensor
) -> float:
    return loss.item()


def tree_training_losses(
    data: TreeData,
    lr: float = 100.0,
    gamma: float = 1e-12,
    n_epochs: int = 250,
    hidden_dim: int = 30,
    init_seed: int = 0,
) -> np.ndarray:
    """``demos.loss_for_settings``: plain training that reads out the loss alone."""
    settings = (data, lr, gamma, n_epochs, hidden_dim, init_seed)
    return np.array(_tree_training_run(*settings, _read_loss))


def tree_training_record(
    data: TreeData,
    lr: float = 100.0,
    gamma: float = 1e-12,
    n_epochs: int = 250,
    hidden_dim: int = 30,
    init_seed: int = 0,
    watch: tuple[int, int] = (0, -1),
) -> TrainingRecord:
    """``demos.svd_rsa_record``'s recording, one training run per recorded quantity: the loss,
    the singular values (an SVD of the total map every epoch), the hidden-layer similarity
    matrices and the watched prediction, each read out with its own run from the same start."""
    in_dim = data.items.shape[1]
    n_modes = min(in_dim, data.features.shape[1])
    item, feature = watch
    readings: dict[str, Reading] = {
        "losses": _read_loss,
        "singular_values": lambda model, output, hidden, loss: torch.linalg.svdvals(
            total_map(model, in_dim)
        )[:n_modes].cpu().numpy(),
        "rsms": lambda model, output, hidden, loss: (hidden @ hidden.T).cpu().numpy(),
        "predictions": lambda model, output, hidden, loss: output[item, feature].item(),
    }
    settings = (data, lr, gamma, n_epochs, hidden_dim, init_seed)
    return TrainingRecord(
        **{name: np.array(_tree_training_run(*settings, read)) for name, read in readings.items()}
    )


# --------------------------------------------------------------------------------------
# Notebook 01: the tutorial's cubic
# --------------------------------------------------------------------------------------


def lr_run_history(fit: Callable, lr: float, steps: int, seed: int = 2021) -> np.ndarray:
    """``demos.lr_run``'s loss history, with the tutorial's ``Polynomial3`` (four scalar
    parameters, the cubic written term by term)."""
    x, y = sine_data()
    model = Polynomial3(initial_coefficients(seed))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    return np.array([float(loss) for loss in fit(model, x, y, optimizer, steps)])


# --------------------------------------------------------------------------------------
# Notebook 04: one rule at a time
# --------------------------------------------------------------------------------------


def compare_rules(
    function: str, rules: dict[str, Rule], steps: int, schedule: str = "constant"
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``demos.compare_rules``: each rule run alone, its learning rate adjusted every step."""
    test = FUNCTIONS[function]
    results = {}
    for name, rule in rules.items():
        point = Point(test.start)
        state = setup(rule, point)
        factor = relative_schedule(schedule, steps)
        path = np.full((steps + 1, 2), np.nan)
        losses = np.full(steps + 1, np.nan)
        for t in range(steps + 1):
            loss = test.function(point.xy)
            path[t], losses[t] = point.xy.detach().numpy(), loss.item()
            if t == steps or not np.isfinite(losses[t]) or losses[t] > 1e8:
                break
            state = adjust(state, lr=rule.lr * factor(t))
            state, point = update_(state, point, gradients(loss, point))
        results[name] = (path, losses)
    return results


def schedule_race(
    rule: Rule, steps: int = 1000, batch_size: int = 8, noise: float = 0.5, seed: int = 0
) -> dict[str, np.ndarray]:
    """``demos.schedule_race``'s losses the straightforward way: the ``Affine`` model and the
    state tree, autograd's gradients, the rate adjusted every step, one schedule at a time."""
    inputs, targets = noisy_affine_data(noise, seed=seed)
    with_ones = torch.cat([inputs, torch.ones(len(inputs), 1, dtype=torch.float64)], dim=1)
    best_fit = torch.linalg.lstsq(with_ones, targets).solution.T
    best = float(((with_ones @ best_fit.T - targets) ** 2).sum(dim=1).mean())
    generator = torch.Generator().manual_seed(seed + 1)
    batches = torch.randint(len(inputs), (steps, batch_size), generator=generator)
    every = max(steps // RACE_MEASUREMENTS, 1)
    losses = {}
    for name in RACE_SCHEDULES:
        factor = race_schedule(name, steps)
        model = Affine().double()
        state = setup(rule, model)
        curve = []
        for t in range(steps):
            state = adjust(state, lr=rule.lr * factor(t))
            loss = mse_distance(model(inputs[batches[t]]), targets[batches[t]])
            state, model = update_(state, model, gradients(loss, model))
            if (t + 1) % every == 0:
                with torch.no_grad():
                    curve.append(float(mse_distance(model(inputs), targets)) - best)
        losses[name] = np.array(curve)
    return losses
