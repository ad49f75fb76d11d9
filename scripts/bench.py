"""Benchmarks: how fast the demos respond, and what the vectorized helpers buy.

    make bench

Prints the seconds each demo's compute function takes at its default widget values (what a
student waits for after moving a slider), and ratios measured in the same run, which stay
meaningful on any machine:

- the loss slice on a 30 x 30 grid, evaluated at once vs one model copy per grid point;
- deep linear network training with every epoch's recordings (singular values, RSMs) vs
  plain gradient descent;
- a student's update run under the autograder's shortcut detector vs run bare;
- grading a generated class (correct, wrong and unfinished submissions) with the sandbox vs
  without it: seconds per graded notebook (``BENCH_CLASS_SIZE`` students, default 20;
  ``BENCH_CLASS_SIZE=0`` skips it).
"""

from __future__ import annotations

import copy
import importlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
import torch
import torch.nn.functional as F

from helpers.checking import no_shortcuts
from helpers.data import hierarchical_data, load_mnist
from helpers.deep_linear import demos as linear_demos
from helpers.deep_linear.network import LinearNet
from helpers.deep_linear.reference import initializer_
from helpers.device import set_device, set_seed
from helpers.models import MLP
from helpers.optimization import demos as optimization_demos
from helpers.optimization import reference as updates
from helpers.optimization.landscape import BIAS_INDEX, WEIGHT_INDEX, LossSlice

REPEATS = 3


def best_time(run: Callable[[], object], repeats: int = REPEATS) -> float:
    """Fastest of ``repeats`` runs, in seconds (the least disturbed by other work)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def slice_per_point(model: MLP, inputs: torch.Tensor, targets: torch.Tensor, points: int) -> None:
    """The naive way to draw the slice: a model copy per grid point, one forward pass each."""
    axis = torch.linspace(-4, 4, points)
    with torch.no_grad():
        for u in axis:
            for v in axis:
                probe = copy.deepcopy(model)
                layer = probe.main[0]
                layer.weight[WEIGHT_INDEX] = u
                layer.bias[BIAS_INDEX] = v
                F.nll_loss(probe(inputs), targets)


def plain_linear_training(inputs: torch.Tensor, targets: torch.Tensor, epochs: int) -> None:
    """Gradient descent on the deep linear network with nothing recorded."""
    model = LinearNet(inputs.shape[1], 30, targets.shape[1]).to(inputs.device)
    initializer_(model, 1e-12)
    for _ in range(epochs):
        model.zero_grad()
        output, _ = model(inputs)
        F.mse_loss(output, targets).backward()
        with torch.no_grad():
            for weight in model.parameters():
                weight -= 100.0 * weight.grad


def main() -> None:
    set_seed(2021)
    device = set_device()
    train_set, _ = load_mnist()
    inputs = train_set.data[:500].to(device)
    targets = train_set.targets[:500].to(device)
    tree = hierarchical_data(device=device)

    linear = MLP(hidden_dims=[]).to(device)
    optimization_demos.partially_train(linear, inputs, targets, steps=50)
    loss_slice = LossSlice.from_model(linear, inputs.cpu(), targets.cpu())
    grid_points = 30

    print("\nDemo compute at default widget values (seconds, best of 3)")
    demos = {
        "03 loss changes (100 directions)": lambda: optimization_demos.loss_changes(
            MLP(hidden_dims=[]).to(device), inputs, targets, updates.gradient_update
        ),
        "03 momentum vs gradient descent": lambda: optimization_demos.momentum_vs_gd(
            loss_slice, updates.gradient_update, updates.momentum_update
        ),
        "03 overparameterization": lambda: optimization_demos.overparameterization(
            inputs, targets, updates.gradient_update
        ),
        "03 compare optimizers": lambda: optimization_demos.compare_optimizers(
            inputs,
            targets,
            updates.gradient_update,
            updates.momentum_update,
            updates.rmsprop_update,
            updates.sample_minibatch,
        ),
        "02 loss vs lr and gamma": lambda: linear_demos.loss_for_settings(tree),
        "02 SVD/RSA explorer (one run)": lambda: linear_demos.svd_rsa_record(tree),
    }
    for name, run in demos.items():
        print(f"  {name:<36} {best_time(run):7.3f}")

    print("\nRatios measured in this run")
    vectorized = best_time(lambda: loss_slice.grid(points=grid_points))
    naive = best_time(lambda: slice_per_point(linear.cpu(), inputs.cpu(), targets.cpu(), 10), 1)
    naive_per_grid = naive * (grid_points / 10) ** 2
    print(
        f"  loss slice, {grid_points}x{grid_points} grid: per-point copies take "
        f"{naive_per_grid / vectorized:6.1f}x as long as the vectorized grid"
    )
    recorded = best_time(lambda: linear_demos.loss_for_settings(tree))
    plain = best_time(lambda: plain_linear_training(tree.items, tree.features, 250))
    print(f"  deep linear training, 250 epochs: recording costs {recorded / plain:6.2f}x plain")

    params = [torch.randn(100, 100, requires_grad=True) for _ in range(3)]

    def update() -> None:
        updates.gradient_update(sum((p**2).sum() for p in params), params, 1e-3)

    def watched_update() -> None:
        with no_shortcuts("gradient_update", torch.optim):
            update()

    bare, watched = best_time(update, 20), best_time(watched_update, 20)
    print(f"  shortcut detector around one update: {watched / bare:6.2f}x bare")

    class_size = int(os.environ.get("BENCH_CLASS_SIZE", "20"))
    if class_size:
        print("\nGrading (seconds per notebook)")
        grading_benchmark(class_size)


def grading_benchmark(class_size: int, workers: int = 2) -> None:
    """Grade a generated class of notebook 02 with and without the sandbox; seconds per notebook.

    A third of the class is correct, a third has one wrong answer per exercise (from the
    mutation suite), a third is the untouched release.
    """
    from instructor import classroom, sandbox
    from instructor.notebook import REPO_ROOT, find_cell, topics

    sys.path.insert(0, str(REPO_ROOT / "tests"))
    topic = next(t for t in topics() if t.name == "deep_linear")
    wrong = importlib.import_module(f"variants_{topic.name}").WRONG
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as folder:
        root = Path(folder)
        (root / "solutions").symlink_to(REPO_ROOT / "solutions")
        course = classroom.Course(root=root)
        classroom.release(course, [topic.assignment])
        solution = nbformat.read(topic.solution_path(), as_version=4)
        for index in range(class_size):
            notebook = nbformat.read(topic.release_path(root), as_version=4)
            for name in topic.exercises:
                if index % 3 == 0:
                    find_cell(notebook, name).source = find_cell(solution, name).source
                elif index % 3 == 1:
                    variants = list(wrong[name].values())
                    find_cell(notebook, name).source = variants[index % len(variants)]
            target = root / "submitted" / f"student_{index:03d}" / topic.assignment
            target.mkdir(parents=True)
            nbformat.write(notebook, target / topic.notebook_name)
        modes = {"without the sandbox": False}
        if sandbox.available():
            modes["with the sandbox"] = True
        seconds = {}
        for label, sandboxed in modes.items():
            start = time.perf_counter()
            classroom.grade_class(
                course,
                workers=workers,
                assignments=[topic.assignment],
                feedback=False,
                sandboxed=sandboxed,
            )
            seconds[label] = (time.perf_counter() - start) / class_size
            print(
                f"  grading {class_size} x {topic.assignment}, {label}: "
                f"{seconds[label]:5.1f} s per notebook ({workers} workers)"
            )
            shutil.rmtree(root / "autograded", ignore_errors=True)
        if len(seconds) == 2:
            ratio = seconds["with the sandbox"] / seconds["without the sandbox"]
            print(f"  the sandbox costs {ratio:5.2f}x per notebook")
        else:
            print("  bubblewrap is missing: the sandboxed row was skipped")


if __name__ == "__main__":
    main()
