# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # PyTorch basics: training is curve fitting by steepest descent
#
# Strip away the vocabulary of deep learning and training a network is something much older:
# we choose a function with adjustable parameters, measure how far its outputs are from the
# data, and move the parameters a little way downhill, again and again. That is steepest
# descent, and the whole of this notebook is one such fit: the curve $y = \sin(x)$, fitted
# with a cubic polynomial.
#
# We do it nine times. The first version uses nothing but numpy and gradients derived by hand.
# Each later version hands one piece of that manual work to a PyTorch feature: tensors that run
# on a GPU, automatic differentiation, custom differentiable functions, layers and loss
# functions, optimizers, modules, and models whose computation changes from call to call. The
# answer stays the same throughout; what changes is how much of it we have to write ourselves.
#
# **Learning objectives.** By the end you will be able to
#
# 1. derive the gradient of a squared-error loss by hand and write a gradient-descent loop;
# 2. move a computation to PyTorch tensors on a device, and let autograd compute gradients
#    (`requires_grad`, `backward`, `torch.no_grad`, clearing `.grad`);
# 3. check any gradient with finite differences and `torch.autograd.gradcheck`;
# 4. write a `torch.autograd.Function` with its own `forward` and `backward`, saving what the
#    backward pass needs, for one input and for several;
# 5. build models with `torch.nn`, train them with `torch.optim`, and write your own
#    `nn.Module`, including one with control flow and shared weights;
# 6. explain why a learning rate that is too large makes training diverge, and compute where
#    that happens for a quadratic loss.
#
# **Time estimate:** about 3 hours 15 minutes.
#
# **Exercises** (autograded): `cubic_gradients` (section 1), `LegendrePolynomial3` and
# `SumSquaredError` (section 5), `fit_polynomial` (section 7) and `stability_limit`
# (section 10). Replace `raise NotImplementedError()` in each exercise cell
# with your code and run the test cell below it: it prints a friendly line when your answer is
# right. The grader runs more tests than you see. Until you have written an exercise, the cells
# that use it run the reference implementation from `helpers` and say so, so you can run the
# whole notebook at any time.
#
# **What a solution cell may use.** A solution cell may use the notebook's setup imports, its
# own imports, functions and classes and plain constants (numbers, strings, tuples of them)
# defined in the same cell, and the functions and classes you wrote in earlier exercises'
# solution cells; anything else (a variable from a demo cell, a helper in a cell you added) is
# invisible to the grader, and the self-check tells you so.
#
# *Source: this notebook follows the PyTorch tutorial "Learning PyTorch with Examples" (by
# Justin Johnson) and a walk-through of it that read training as steepest-descent fitting,
# rewritten for this course.*

# %%
# Setup. In Colab, this installs the course (its `helpers` package and data) with pip from the
# course's repository, which `make release COURSE_REPO=...` writes below; Colab has the other
# packages. Elsewhere (JupyterLab after `make lab`) the course is installed: it does nothing.
import importlib
import sys

COURSE_REPO = ""
if "google.colab" in sys.modules:
    if COURSE_REPO:
        # %pip install --quiet git+{COURSE_REPO}
        importlib.invalidate_caches()  # the course's packages are newer than this kernel
    else:
        print(
            "This notebook does not say where the course lives (COURSE_REPO is empty): "
            "ask your instructor for the course's Colab link."
        )

# %%
import inspect
import warnings
from functools import partial

import numpy as np
import torch
from torch import nn

from helpers.basics import demos
from helpers.basics.checks import EXERCISES
from helpers.basics.loops import fit_with_progress, progress, training_steps
from helpers.basics.polynomial import (
    DynamicPolynomial,
    Polynomial3,
    coefficients_of,
    cubic_features,
    initial_coefficients,
    least_squares,
    legendre_to_cubic,
    linear_cubic_model,
    sine_data,
    sine_data_numpy,
)
from helpers.device import set_device, set_seed
from helpers.widgets import show

SEED = 2021
set_seed(SEED)
DEVICE = set_device()
# %matplotlib inline

# %% [markdown]
# ## Section 1: Warm-up with numpy
#
# *Time estimate: about 25 minutes.*
#
# ### The problem
#
# We take $N = 2000$ evenly spaced points $x_1, \dots, x_N$ in $[-\pi, \pi]$ with targets
# $y_i = \sin(x_i)$, and fit the cubic
#
# $$
# \hat y_i = a + b\,x_i + c\,x_i^2 + d\,x_i^3
# $$
#
# by minimising the **sum** of squared errors
#
# $$
# \mathcal{L}(a, b, c, d) = \sum_{i=1}^{N} \left(\hat y_i - y_i\right)^2 .
# $$
#
# A cubic cannot match a sine exactly, so $\mathcal{L}$ never reaches zero. Its minimum can be
# computed in closed form, because $\mathcal{L}$ is quadratic in the four coefficients (a
# linear least-squares problem); we will use that number as the finish line for every method.
#
# Every method starts from the same four random coefficients.

# %%
x_np, y_np = sine_data_numpy()
START = initial_coefficients(SEED)
best_coefficients, best_loss = least_squares(x_np, y_np)
print("Starting coefficients (a, b, c, d):", np.round(START, 4))
print(f"Least-squares optimum: loss {best_loss:.4f} at (a, b, c, d) = "
      f"{np.round(best_coefficients, 4)}")

# %% [markdown]
# ### Gradients by hand
#
# Gradient descent moves every coefficient against its partial derivative. Write
# $r_i = \hat y_i - y_i$ for the residual. The chain rule through the square gives
# $\partial \mathcal{L} / \partial \hat y_i = 2 r_i$, and each prediction depends on a
# coefficient through the power of $x_i$ that multiplies it:
#
# $$
# \frac{\partial \hat y_i}{\partial a} = 1, \qquad
# \frac{\partial \hat y_i}{\partial b} = x_i, \qquad
# \frac{\partial \hat y_i}{\partial c} = x_i^2, \qquad
# \frac{\partial \hat y_i}{\partial d} = x_i^3 .
# $$
#
# Summing over the data,
#
# $$
# \frac{\partial \mathcal{L}}{\partial a} = \sum_{i=1}^{N} 2 r_i, \qquad
# \frac{\partial \mathcal{L}}{\partial b} = \sum_{i=1}^{N} 2 r_i\, x_i, \qquad
# \frac{\partial \mathcal{L}}{\partial c} = \sum_{i=1}^{N} 2 r_i\, x_i^2, \qquad
# \frac{\partial \mathcal{L}}{\partial d} = \sum_{i=1}^{N} 2 r_i\, x_i^3 ,
# $$
#
# and one step of gradient descent with learning rate $\eta$ updates
#
# $$
# a \leftarrow a - \eta \frac{\partial \mathcal{L}}{\partial a}, \quad
# b \leftarrow b - \eta \frac{\partial \mathcal{L}}{\partial b}, \quad
# c \leftarrow c - \eta \frac{\partial \mathcal{L}}{\partial c}, \quad
# d \leftarrow d - \eta \frac{\partial \mathcal{L}}{\partial d}.
# $$
#
# ### Coding exercise 1: `cubic_gradients`
#
# Write `cubic_gradients(x, y, a, b, c, d)`: given the data as numpy arrays and the four
# coefficients, return the tuple `(grad_a, grad_b, grad_c, grad_d)` of the four partial
# derivatives above, as Python floats. Mind the details the test checks: a sum (not a mean),
# the factor 2, the sign of the residual (prediction minus target) and the powers of $x$.
# Use numpy only.

# %% nbgrader={"grade": false, "grade_id": "cubic_gradients", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cubic_gradients(x, y, a, b, c, d):
    """Gradient of sum((a + b x + c x^2 + d x^3 - y)^2) with respect to a, b, c and d.

    Args:
        x, y: numpy arrays of the same shape (inputs and targets).
        a, b, c, d: the coefficients of the cubic (floats).

    Returns:
        (grad_a, grad_b, grad_c, grad_d) as floats.
    """
    ### BEGIN SOLUTION
    residual = a + b * x + c * x**2 + d * x**3 - y
    grad_prediction = 2.0 * residual
    return (
        float(np.sum(grad_prediction)),
        float(np.sum(grad_prediction * x)),
        float(np.sum(grad_prediction * x**2)),
        float(np.sum(grad_prediction * x**3)),
    )
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_cubic_gradients", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from helpers.basics import checks

checks.self_check("cubic_gradients", cubic_gradients)
### BEGIN HIDDEN TESTS
checks.hidden_check("cubic_gradients", cubic_gradients)
### END HIDDEN TESTS

# %% [markdown]
# ### The training loop
#
# Now the whole fit: forward pass, loss, gradients, update, 5,000 times with $\eta = 10^{-6}$.
# `gradients` below is your `cubic_gradients` (or the reference, until yours is done).

# %%
LR = 1e-6
STEPS = training_steps(5000)
gradients = EXERCISES.implementation("cubic_gradients", globals())

a, b, c, d = START
history_numpy = []
for _ in progress(STEPS, "numpy"):
    y_pred = a + b * x_np + c * x_np**2 + d * x_np**3  # forward pass
    history_numpy.append(float(np.sum((y_pred - y_np) ** 2)))  # loss
    grad_a, grad_b, grad_c, grad_d = gradients(x_np, y_np, a, b, c, d)  # backward pass
    a, b, c, d = a - LR * grad_a, b - LR * grad_b, c - LR * grad_c, d - LR * grad_d  # update

results = {"numpy, hand gradients": (history_numpy[-1], (a, b, c, d))}
print(f"Loss {history_numpy[0]:,.1f} at the start, {history_numpy[-1]:.4f} after {STEPS} steps "
      f"(optimum {best_loss:.4f}).")
print(f"Result: y = {a:.4f} {b:+.4f} x {c:+.4f} x^2 {d:+.4f} x^3")
show(demos.plot_fit(x_np, y_np, a + b * x_np + c * x_np**2 + d * x_np**3,
                    "numpy: the cubic after gradient descent"))

# %% [markdown]
# The residual is the part of $\sin(x)$ that no cubic can capture: it wiggles around zero and
# is largest at the ends of the interval. Its shape, not its size, tells you the fit has
# converged: the same wiggle is there at the optimum.
#
# ### Think! 1: why such a small learning rate?
#
# The learning rate $10^{-6}$ looks absurdly small. Why is a larger one not simply faster
# here? Think about the sizes of the numbers in the gradient of $d$.
#
# <details>
# <summary>Model answer</summary>
#
# The loss is a *sum* over 2,000 points, and $d$ multiplies $x^3$, which reaches
# $\pi^3 \approx 31$. The curvature of the loss along $d$ is about $2\sum_i x_i^6$, several
# hundred thousand, so a step of $\eta$ times the gradient overshoots unless $\eta$ is below
# roughly $2 / (\text{curvature})$, a few times $10^{-6}$. In section 10 you compute the exact
# limit and cross it. A mean instead of a sum would allow a learning rate 2,000 times larger:
# the scale of the loss and the scale of the learning rate go together.
# </details>

# %% [markdown]
# ## Section 2: The same with PyTorch tensors
#
# *Time estimate: about 10 minutes.*
#
# A PyTorch tensor is an $n$-dimensional array, like a numpy array, with one addition that
# matters here: it can live on a GPU, where large array operations run many times faster. The
# code below is the numpy loop again, translated word for word; `device=DEVICE` places the data
# and the coefficients on the device that `set_device()` chose (a GPU if there is one).
# `.item()` copies a one-element tensor back to the CPU as a Python number.

# %%
x, y = sine_data(device=DEVICE)
a, b, c, d = (torch.tensor(value, device=DEVICE) for value in START)

history_tensors = []
for _ in progress(STEPS, "tensors"):
    y_pred = a + b * x + c * x**2 + d * x**3
    loss = (y_pred - y).pow(2).sum()
    history_tensors.append(loss.item())
    grad_y_pred = 2.0 * (y_pred - y)  # the same hand-derived gradients, now on tensors
    grad_a, grad_b = grad_y_pred.sum(), (grad_y_pred * x).sum()
    grad_c, grad_d = (grad_y_pred * x**2).sum(), (grad_y_pred * x**3).sum()
    a, b, c, d = a - LR * grad_a, b - LR * grad_b, c - LR * grad_c, d - LR * grad_d

final_tensors = tuple(v.item() for v in (a, b, c, d))
results["torch tensors, hand gradients"] = (history_tensors[-1], final_tensors)
print(f"{x.device}: loss {history_tensors[-1]:.4f} after {STEPS} steps "
      f"(numpy: {history_numpy[-1]:.4f}).")

# %% [markdown]
# The losses agree to the digits printed, though not to the last bit: the tensors are single
# precision (`float32`, about 7 significant digits) while numpy used double precision
# (`float64`). Deep learning uses `float32` (or less) because it is faster and the noise of
# training dwarfs the rounding; section 4 shows where double precision is indispensable.

# %% [markdown]
# ## Section 3: Autograd
#
# *Time estimate: about 20 minutes.*
#
# Deriving gradients by hand was fine for four coefficients of a cubic, but it is hopeless for
# a network with millions of parameters and dozens of layers. PyTorch's **autograd** does it for
# us. When a tensor is created with `requires_grad=True`, every operation on it is recorded in a
# *computational graph* (the nodes are tensors, the edges the operations that produced them).
# Calling `loss.backward()` walks this graph backwards, applying the chain rule at each node,
# and stores $\partial \mathcal{L} / \partial w$ in `w.grad` for every such tensor $w$.
#
# Three details make a correct loop:
#
# * the update must not itself be recorded in the graph, so it runs inside
#   `with torch.no_grad():` and changes the coefficients **in place** (`w -= ...`);
# * `backward` **adds** to `.grad` rather than overwriting it, so each step must clear the old
#   gradient (`w.grad = None`, or `w.grad.zero_()`);
# * `loss.item()` records the loss as a number without keeping the graph alive.
#
# First, the accumulation, seen directly: two calls of `backward` on the same loss (we keep the
# graph for the second call) leave twice the gradient.

# %%
w = torch.tensor(START[3], device=DEVICE, requires_grad=True)
loss = ((w * x**3 - y) ** 2).sum()
loss.backward(retain_graph=True)
print(f"after one backward:  w.grad = {w.grad.item():,.1f}")
loss.backward()
print(f"after two backwards: w.grad = {w.grad.item():,.1f}  (the sum of both)")


# %% [markdown]
# The loop with autograd has no gradient formulas left in it. We write it as a function, so
# that we can also run it *without* clearing the gradients and see what goes wrong.

# %%
def autograd_descent(start, steps, lr, clear_gradients=True, description="autograd"):
    """Gradient descent on the cubic with autograd; returns the coefficients and the losses."""
    coefficients = [torch.tensor(v, device=DEVICE, requires_grad=True) for v in start]
    a, b, c, d = coefficients
    history = []
    for _ in progress(steps, description):
        loss = ((a + b * x + c * x**2 + d * x**3 - y) ** 2).sum()
        history.append(loss.item())
        loss.backward()  # fills a.grad, b.grad, c.grad, d.grad
        with torch.no_grad():
            for w in coefficients:
                w -= lr * w.grad
                if clear_gradients:
                    w.grad = None
    return [w.item() for w in coefficients], history


final_autograd, history_autograd = autograd_descent(START, STEPS, LR)
results["autograd"] = (history_autograd[-1], tuple(final_autograd))
print(f"autograd: loss {history_autograd[-1]:.4f} after {STEPS} steps "
      f"(hand gradients on tensors: {history_tensors[-1]:.4f}).")

# %% [markdown]
# And now the same 300 steps twice, once forgetting to clear the gradients.

# %%
short = training_steps(300)
_, clearing = autograd_descent(START, short, LR, description="clearing .grad")
_, forgetting = autograd_descent(START, short, LR, clear_gradients=False,
                                 description="forgetting to clear")
show(demos.plot_histories(
    {"gradients cleared every step": clearing, "gradients never cleared": forgetting},
    best_loss, "What forgetting to clear .grad does"))

# %% [markdown]
# Without clearing, step $t$ moves along the *sum* of all gradients so far, so the coefficients
# keep being pushed in directions that were downhill long ago: they overshoot, and the loss
# swings up and down by orders of magnitude instead of settling. No error is raised; the only
# symptom is a strange loss curve. That is why every PyTorch training loop clears
# the gradients in each step.
#
# ### Think! 3: when is accumulation useful?
#
# `backward` accumulates on purpose. Can you think of a situation where you *want* the gradient
# of several `backward` calls to add up?
#
# <details>
# <summary>Model answer</summary>
#
# When a batch is too large for memory: split it into $k$ chunks, call `backward` on each
# chunk's loss, and step once ("gradient accumulation"). The accumulated gradient is the *sum*
# of the chunks' gradients, so it equals the gradient of the whole batch only when the loss is
# a sum over the examples, as in this notebook. With a mean, PyTorch's default
# (`reduction="mean"` in its losses), each chunk's loss is a mean over its own chunk and the
# sum of $k$ equal chunks' gradients is $k$ times the batch's: divide each chunk's loss by the
# number of chunks $k$ before calling `backward` (for chunks of unequal sizes $n_j$, multiply
# each chunk's mean by $n_j / N$ instead). Accumulation also makes weight sharing work: a tensor
# used in several places of a graph receives the sum of the gradients of all its uses
# (section 9).
# </details>

# %% [markdown]
# ## Section 4: Checking gradients
#
# *Time estimate: about 15 minutes.*
#
# A wrong gradient rarely crashes anything: training just goes worse, and you may never find
# out why. So a hand-written gradient must be checked. The definition of the derivative gives
# a test that needs only the loss itself, the **central difference**
#
# $$
# \frac{\partial \mathcal{L}}{\partial \theta_j} \approx
# \frac{\mathcal{L}(\theta + h\, e_j) - \mathcal{L}(\theta - h\, e_j)}{2h},
# $$
#
# where $e_j$ is the $j$-th unit vector. First we check your `cubic_gradients` at the starting
# point this way, in double precision.

# %%
def cubic_loss(theta, x, y):
    """The summed squared error of the cubic with coefficients theta = (a, b, c, d)."""
    return ((theta[0] + theta[1] * x + theta[2] * x**2 + theta[3] * x**3 - y) ** 2).sum()


def central_difference(loss, theta, j, h):
    """(loss(theta + h e_j) - loss(theta - h e_j)) / 2h: the j-th partial derivative, roughly."""
    step = torch.zeros_like(theta)
    step[j] = h
    return ((loss(theta + step) - loss(theta - step)) / (2 * h)).item()


x64, y64 = sine_data(dtype=torch.float64)
theta64 = torch.tensor(START, dtype=torch.float64)
hand = gradients(x_np, y_np, *START)
loss64 = partial(cubic_loss, x=x64, y=y64)
for j, name in enumerate("abcd"):
    numeric = central_difference(loss64, theta64, j, 1e-4)
    print(f"dL/d{name}: hand {hand[j]:14,.3f}   finite difference {numeric:14,.3f}")

# %% [markdown]
# How good is such a check? The central difference has two sources of error. Its *truncation*
# error, from the curvature of the loss, shrinks like $h^2$. Its *rounding* error grows as $h$
# shrinks: the two losses agree in more and more leading digits, and subtracting them leaves
# only the noisy last ones. (For our cubic the loss is quadratic in the coefficients, so the
# truncation error happens to vanish; to see both effects we use the Legendre-form loss of
# section 5, $\sum_i \big(-P_3(d\,x_i) - y_i\big)^2$, as a function of $d$ at $d = 0.3$.) The exact
# derivative comes from autograd in double precision.

# %%
def legendre_form_loss(d, x, y):
    u = d * x
    return ((-0.5 * (5 * u**3 - 3 * u) - y) ** 2).sum()


d64 = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
legendre_form_loss(d64, x64, y64).backward()
exact = d64.grad.item()

step_sizes = np.logspace(-8, -1, 15)
errors = {}
for dtype in (torch.float32, torch.float64):
    xs, ys = sine_data(dtype=dtype)
    loss_of_d = partial(legendre_form_loss, x=xs, y=ys)
    d0 = torch.tensor([0.3], dtype=dtype)
    errors[str(dtype)] = [
        abs(central_difference(loss_of_d, d0, 0, h) - exact) / abs(exact) for h in step_sizes
    ]
show(demos.plot_finite_differences(step_sizes, errors))

# %% [markdown]
# In `float64` the best step gives about ten correct digits. In `float32` the best is about five,
# the curve is ragged, and for small $h$ the estimate is rounding noise. That is why gradient
# checks are done in **double precision**: only there is the check much more accurate than the
# errors it is meant to find.
#
# `torch.autograd.gradcheck` automates this test for any function of tensors: it compares the
# gradients autograd computes (by the `backward` of every operation involved, including ones
# you write yourself) with central differences, for every input and output element.

# %%
theta64.requires_grad_(True)
print("gradcheck in float64:", torch.autograd.gradcheck(cubic_loss, (theta64, x64, y64)))

theta32 = torch.tensor(START, dtype=torch.float32, requires_grad=True)
x32, y32 = sine_data(dtype=torch.float32)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # gradcheck itself warns that float32 is not precise enough
    passed = torch.autograd.gradcheck(cubic_loss, (theta32, x32, y32), raise_exception=False)
print("gradcheck in float32:", passed)

# %% [markdown]
# The same correct gradient fails the check in `float32`: the test is only meaningful in double
# precision. The test cell of the next exercise runs `gradcheck` on your code in `float64`.
#
# ### Think! 4: the cost of a numerical gradient
#
# If finite differences give gradients, why do we need autograd at all? Count how many
# evaluations of the loss a central-difference gradient of a network with $P$ parameters needs.
#
# <details>
# <summary>Model answer</summary>
#
# Two per parameter, $2P$ evaluations of the whole loss. A backward pass (reverse-mode
# automatic differentiation) gives all $P$ partial derivatives for a small constant multiple of
# the cost of one evaluation, whatever $P$ is: typically 2 to 3 evaluations in all, forward
# pass included (going backwards, each matrix product of the forward pass costs one product of
# the same size for its weights' gradient and one more for its input's, which the first layer
# skips), and never more than about 5 (Griewank and Walther, *Evaluating Derivatives*, 2008).
# With millions of parameters finite differences are useless for training; they are a
# debugging tool, used on small inputs.
# </details>

# %% [markdown]
# ## Section 5: New autograd functions
#
# *Time estimate: about 35 minutes.*
#
# Autograd knows the derivative of every built-in operation. Each of them is a pair of
# functions: a **forward** that computes outputs from inputs, and a **backward** that receives
# the gradient of the final loss with respect to the outputs (`grad_output`) and returns the
# gradient with respect to the inputs. You can add your own operation by subclassing
# `torch.autograd.Function` and writing both as static methods; you call it through `.apply`.
#
# We change the model to
#
# $$
# \hat y = a + b\, P_3(c + d\,x), \qquad P_3(u) = \tfrac{1}{2}\left(5u^3 - 3u\right),
# $$
#
# where $P_3$ is the Legendre polynomial of degree 3. Expanding $(c + dx)^3$ shows that every
# such model is a cubic in $x$. The converse is false: not every cubic can be written this way.
# $x + x^3$ cannot: its missing $x^2$ term forces $c = 0$, and $b\,P_3(d\,x)$ always has
# coefficients of $x$ and $x^3$ of opposite signs. (The cubics of this form are exactly the
# constants and the cubics with a local maximum and a local minimum.) So the two models do not
# describe the same set of functions. What holds is narrower, and enough here: *this data's*
# best cubic, $0.857\,x - 0.093\,x^3$, has no $x^2$ term and opposite signs, so the Legendre
# model can write it exactly ($a = c = 0$, $d \approx 0.256$, $b \approx -2.23$), and on this
# data the best fit of both models is the same.
#
# For an elementwise function $u \mapsto P_3(u)$, the chain rule says that the gradient of the
# loss with respect to each input element is
#
# $$
# \frac{\partial \mathcal{L}}{\partial u} = \frac{\partial \mathcal{L}}{\partial P_3(u)}\,
# P_3'(u) = \texttt{grad\_output} \cdot P_3'(u).
# $$
#
# `backward` needs $u$ to compute $P_3'(u)$, but it runs later, after the whole forward pass.
# `forward` therefore keeps what `backward` will need in `ctx`, a context object that autograd
# passes to both: `ctx.save_for_backward(u)` in `forward`, and `(u,) = ctx.saved_tensors` (a
# tuple, in the order saved) in `backward`. Why not simply `ctx.u = u`? PyTorch's
# documentation asks for `save_for_backward` for every tensor that `backward` uses, for two
# reasons: autograd then notices when a saved tensor has been changed in place between the
# two passes, and raises an error instead of computing a wrong gradient (we try it below), and
# it frees the saved tensors once `backward` has run. Numbers and other non-tensors may be
# stored as attributes of `ctx`.
#
# ### Coding exercise 5a: `LegendrePolynomial3`
#
# Write both methods. `forward(ctx, x)` returns $P_3(x)$, elementwise, and saves its input with
# `ctx.save_for_backward`. `backward(ctx, grad_output)` reads the input back from
# `ctx.saved_tensors` and returns the gradient with respect to it, the formula above. Do not
# assume that `grad_output` is all ones: in the model, it holds $2 r_i b$ for each point. The
# test cell checks your Function with `gradcheck` in double precision and against the reference
# on random inputs, and that `backward` gets its tensors from `save_for_backward`.

# %% nbgrader={"grade": false, "grade_id": "LegendrePolynomial3", "locked": false, "schema_version": 3, "solution": true, "task": false}
class LegendrePolynomial3(torch.autograd.Function):
    """P3(x) = (5x^3 - 3x) / 2, elementwise, with a hand-written backward pass."""

    @staticmethod
    def forward(ctx, x):
        """Return P3(x); save what `backward` needs with `ctx.save_for_backward`."""
        ### BEGIN SOLUTION
        ctx.save_for_backward(x)
        return 0.5 * (5 * x**3 - 3 * x)
        ### END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        """Return the gradient of the loss with respect to `x`, given the one w.r.t. the output."""
        ### BEGIN SOLUTION
        (x,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * x**2 - 1)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_LegendrePolynomial3", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from helpers.basics import checks

checks.self_check("LegendrePolynomial3", LegendrePolynomial3)
### BEGIN HIDDEN TESTS
checks.hidden_check("LegendrePolynomial3", LegendrePolynomial3)
### END HIDDEN TESTS


# %% [markdown]
# What if a `Function` has no `backward`? The forward pass runs, but autograd has no way to go
# back through it, and it says so as soon as `backward` is called:

# %%
class ForwardOnlyP3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return 0.5 * (5 * x**3 - 3 * x)


u = torch.linspace(-1, 1, 5, requires_grad=True)
try:
    ForwardOnlyP3.apply(u).sum().backward()
except NotImplementedError as error:
    print(f"{type(error).__name__}: {error}")


# %% [markdown]
# And here is what `save_for_backward` protects against. Below, the input $v = 2u$ of $P_3$ is
# tripled *in place* after the forward pass, so its values are no longer those $P_3$ was
# computed at. `P3` applies your `LegendrePolynomial3` (or the reference's, while yours is not
# done); `AttributeP3` is the same function with its input kept as `ctx.x`.

# %%
class AttributeP3(torch.autograd.Function):
    """P3 again, but keeping its input as an attribute of ctx instead of saving it."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return 0.5 * (5 * x**3 - 3 * x)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 1.5 * (5 * ctx.x**2 - 1)


P3 = EXERCISES.implementation("LegendrePolynomial3", globals())
u = torch.linspace(-1, 1, 5, requires_grad=True)
AttributeP3.apply(2 * u).sum().backward()
print(f"{'no in-place change':>18}: {u.grad.tolist()}")
for name, function in {"save_for_backward": P3, "ctx.x = x": AttributeP3.apply}.items():
    u = torch.linspace(-1, 1, 5, requires_grad=True)
    v = 2 * u
    output = function(v)
    v.mul_(3)  # an in-place change between the forward and the backward pass
    try:
        output.sum().backward()
        print(f"{name:>18}: {u.grad.tolist()}, and no error")
    except RuntimeError as error:
        print(f"{name:>18}: RuntimeError: {str(error).split(':')[0]}")

# %% [markdown]
# With `save_for_backward`, autograd refuses to differentiate at values that have changed under
# it. With an attribute, `backward` silently uses the tripled values: a wrong gradient, no
# error. (In real code the in-place change is rarely this visible: an optimizer step, or an
# activation such as `relu_`, between two uses of a tensor.)
#
# ### Functions of several inputs
#
# A `Function` may take several tensors. Its `backward` then returns **one gradient per input
# of `forward`, as a tuple in the same order**. Not every input needs one: data and targets
# never do, and neither does a parameter that is frozen. Autograd tells `backward` which
# gradients it needs in `ctx.needs_input_grad`, a tuple of booleans, one per input: where it
# is `False`, return `None` in that place and skip the computation.
#
# Our loss is such a function of two inputs, the predictions $p$ and the targets $t$:
#
# $$
# \mathcal{L}(p, t) = \sum_i (p_i - t_i)^2, \qquad
# \frac{\partial \mathcal{L}}{\partial p_i} = 2\,(p_i - t_i), \qquad
# \frac{\partial \mathcal{L}}{\partial t_i} = -2\,(p_i - t_i).
# $$
#
# Its output is a single number, so `grad_output` is a 0-d tensor. `loss.backward()` starts the
# backward pass with 1, but `grad_output` is something else as soon as the loss is scaled or
# used further (`(0.5 * loss).backward()`, or the loss as one term of a sum), so multiply by it.
#
# ### Coding exercise 5b: `SumSquaredError`
#
# Write `forward(ctx, prediction, target)`, which returns $\sum_i (p_i - t_i)^2$ over all
# elements as a 0-d tensor and saves what `backward` needs with `ctx.save_for_backward`, and
# `backward(ctx, grad_output)`, which returns the tuple `(grad_prediction, grad_target)`: each
# partial derivative above times `grad_output`, or `None` where `ctx.needs_input_grad` says that
# gradient is not needed. The test calls `backward` with every combination that autograd can
# ask for and a `grad_output` other than 1, and runs `gradcheck` with both inputs.

# %% nbgrader={"grade": false, "grade_id": "SumSquaredError", "locked": false, "schema_version": 3, "solution": true, "task": false}
class SumSquaredError(torch.autograd.Function):
    """sum((prediction - target)^2) over all elements, with a hand-written backward pass."""

    @staticmethod
    def forward(ctx, prediction, target):
        """Return the summed squared error (a 0-d tensor); save what `backward` needs."""
        ### BEGIN SOLUTION
        residual = prediction - target
        ctx.save_for_backward(residual)
        return (residual**2).sum()
        ### END SOLUTION

    @staticmethod
    def backward(ctx, grad_output):
        """Return (gradient for prediction, gradient for target), None where not needed."""
        ### BEGIN SOLUTION
        (residual,) = ctx.saved_tensors
        grad_prediction = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_prediction = 2 * residual * grad_output
        if ctx.needs_input_grad[1]:
            grad_target = -2 * residual * grad_output
        return grad_prediction, grad_target
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_SumSquaredError", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from helpers.basics import checks

checks.self_check("SumSquaredError", SumSquaredError)
### BEGIN HIDDEN TESTS
checks.hidden_check("SumSquaredError", SumSquaredError)
### END HIDDEN TESTS

# %% [markdown]
# Now the fit with the new model, with both of your Functions: `P3` for the model and
# `squared_error` for the loss (`SumSquaredError` applied, or the reference's while yours is
# not done). Autograd asks `squared_error` for the gradient of the predictions only: `y`
# does not require one. With $b$ multiplying a cubic in $d$, the loss is no longer quadratic in
# the parameters, so where we start matters; like the tutorial, we start not too far from a
# good solution, at $(a, b, c, d) = (0, -1, 0, 0.3)$, with learning rate $5 \times 10^{-6}$.

# %%
squared_error = EXERCISES.implementation("SumSquaredError", globals())
a, b, c, d = (torch.tensor(v, device=DEVICE, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3))
history_legendre = []
for _ in progress(STEPS, "Legendre"):
    loss = squared_error(a + b * P3(c + d * x), y)
    history_legendre.append(loss.item())
    loss.backward()
    with torch.no_grad():
        for w in (a, b, c, d):
            w -= 5e-6 * w.grad
            w.grad = None

legendre_coefficients = tuple(w.item() for w in (a, b, c, d))
as_cubic = legendre_to_cubic(*legendre_coefficients)
results["custom autograd Functions (Legendre)"] = (history_legendre[-1], as_cubic)
print("Result: y = {:.4f} {:+.4f} P3({:.4f} {:+.4f} x)".format(*legendre_coefficients))
print("as a cubic: y = {:.4f} {:+.4f} x {:+.4f} x^2 {:+.4f} x^3".format(*as_cubic))
print(f"loss {history_legendre[-1]:.4f} (optimum {best_loss:.4f})")

# %% [markdown]
# Expanded back into a cubic, the Legendre model lands on the same coefficients as the plain
# cubic: on this data the parametrisation changes the path, not the destination. On data whose
# best cubic has no local extrema (points on $x + x^3$, say) it would change the destination
# too: the Legendre model could not reach that cubic.

# %% [markdown]
# ## Section 6: `nn`: layers and losses
#
# *Time estimate: about 15 minutes.*
#
# Autograd is a low-level tool. Networks are usually described as *layers*, some with learnable
# parameters, and `torch.nn` provides them as **modules**: objects that hold their parameters
# and compute outputs from inputs when called.
#
# The cubic is a linear function of the three *features* $x, x^2, x^3$, so it is a single
# linear layer $\hat y = a + (x, x^2, x^3)\cdot(b, c, d)$. We build the features for all points
# at once by **broadcasting**: `x.unsqueeze(-1)` turns shape $(N,)$ into $(N, 1)$, the powers
# `tensor([1, 2, 3])` have shape $(3,)$, and `pow` pairs every row with every power, giving
# shape $(N, 3)$. On four points:

# %%
small = torch.tensor([1.0, 2.0, 3.0, 4.0])
powers = torch.tensor([1, 2, 3])
print("small.unsqueeze(-1):", tuple(small.unsqueeze(-1).shape), " powers:", tuple(powers.shape))
print(small.unsqueeze(-1).pow(powers))

# %% [markdown]
# `nn.Sequential` chains modules: `nn.Linear(3, 1)` maps each row of 3 features to 1 output
# (its `bias` is $a$, its `weight` holds $b, c, d$), and `nn.Flatten(0, 1)` turns the resulting
# shape $(N, 1)$ into $(N,)$, the shape of `y`. Without it, `y_pred - y` would broadcast
# $(N, 1)$ against $(N,)$ into an $(N, N)$ matrix: a silent and expensive bug.
#
# `nn.MSELoss(reduction="sum")` is our summed squared error; the default `reduction="mean"`
# would divide it, and its gradient, by $N$. The update is still by hand, now over
# `model.parameters()`, and `model.zero_grad()` clears every parameter's gradient.

# %%
features = cubic_features(x)
model = linear_cubic_model(START).to(DEVICE)  # START instead of PyTorch's random init
loss_fn = nn.MSELoss(reduction="sum")
print(model)
print(f"features {tuple(features.shape)} -> output {tuple(model(features).shape)}")
print(f"summed loss {loss_fn(model(features), y).item():,.1f}, "
      f"mean loss {nn.MSELoss()(model(features), y).item():,.1f} (smaller by N = {len(x)})")

history_nn = []
for _ in progress(STEPS, "nn"):
    loss = loss_fn(model(features), y)
    history_nn.append(loss.item())
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter -= LR * parameter.grad

results["nn.Sequential, manual update"] = (history_nn[-1], coefficients_of(model))
layer = model[0]
print(f"Result: y = {layer.bias.item():.4f} {layer.weight[0, 0].item():+.4f} x "
      f"{layer.weight[0, 1].item():+.4f} x^2 {layer.weight[0, 2].item():+.4f} x^3")

# %% [markdown]
# ## Section 7: `optim`: optimizers
#
# *Time estimate: about 20 minutes.*
#
# The last piece of hand work is the update itself. For plain gradient descent it is one line,
# but better methods (momentum, RMSprop, Adam, ...) keep a state per parameter and are easy to
# get subtly wrong. `torch.optim` provides them behind one interface: an optimizer is created
# with the parameters it updates and its hyperparameters, `optimizer.zero_grad()` clears their
# gradients and `optimizer.step()` applies one update using the current `.grad`. Every PyTorch
# training loop then has the same four lines per step:
#
# 1. `optimizer.zero_grad()`: clear the gradients left from before;
# 2. forward pass and loss;
# 3. `loss.backward()`: compute the gradients;
# 4. `optimizer.step()`: update the parameters.
#
# ### Coding exercise 7: `fit_polynomial`
#
# Write `fit_polynomial(model, x, y, optimizer, steps)`: run `steps` steps of this loop on the
# summed squared error $\sum_i (\text{model}(x)_i - y_i)^2$ and return the **loss history**, a
# list of `steps` floats whose entry $t$ is the loss computed in step $t$ (before that step's
# update). `x` is whatever the model takes as input (the points for a `Polynomial3`, the
# features for the linear model). Two things the test checks: the model may arrive with
# gradients left over from earlier work, so clear them in *every* step before `backward`; and
# use the `optimizer` you are given (do not create one).

# %% nbgrader={"grade": false, "grade_id": "fit_polynomial", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fit_polynomial(model, x, y, optimizer, steps):
    """Train `model` for `steps` steps of `optimizer` on the summed squared error.

    Args:
        model: an nn.Module mapping `x` to predictions of the shape of `y`.
        x, y: input and target tensors.
        optimizer: a torch.optim optimizer over the model's parameters.
        steps: the number of updates.

    Returns:
        A list of `steps` floats: the loss in each step, before its update.
    """
    ### BEGIN SOLUTION
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).sum()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    return history
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_fit_polynomial", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from helpers.basics import checks

checks.self_check("fit_polynomial", fit_polynomial)
### BEGIN HIDDEN TESTS
checks.hidden_check("fit_polynomial", fit_polynomial)
### END HIDDEN TESTS

# %% [markdown]
# Your loop now trains the linear model twice from the same start: with `torch.optim.SGD`
# ($\eta = 10^{-6}$, the update we wrote by hand) and with `torch.optim.RMSprop`
# ($\eta = 10^{-3}$), which divides each parameter's step by a running average of its gradient's
# magnitude. `fit` is your `fit_polynomial` (or the reference's); `fit_with_progress` calls it
# ten times for a tenth of the steps each, to show a progress bar (the optimizer keeps its state
# between calls, so the run is the same).

# %%
fit = EXERCISES.implementation("fit_polynomial", globals())
histories_optim = {}
for name, make_optimizer in {
    "optim.SGD": lambda parameters: torch.optim.SGD(parameters, lr=LR),
    "optim.RMSprop": lambda parameters: torch.optim.RMSprop(parameters, lr=1e-3),
}.items():
    model = linear_cubic_model(START).to(DEVICE)
    optimizer = make_optimizer(model.parameters())
    histories_optim[name] = fit_with_progress(fit, model, features, y, optimizer, STEPS, name)
    results[f"nn.Sequential + {name}"] = (histories_optim[name][-1], coefficients_of(model))
    print(f"{name:>13}: loss {histories_optim[name][-1]:.4f} after {STEPS} steps")
show(demos.plot_histories(histories_optim, best_loss, "torch.optim on the linear model"))

# %% [markdown]
# ### Think! 7: why does RMSprop stop short?
#
# RMSprop needs longer than SGD to get near the optimum, and then levels off visibly above it,
# while SGD creeps all the way down. Why does it stop short? Think about the size of an RMSprop
# step when the gradient becomes small.
#
# <details>
# <summary>Model answer</summary>
#
# RMSprop divides the gradient by the root of the running average of its square, so each step
# has a size of roughly $\eta$ per parameter *whatever the size of the gradient*. (That is also
# why it starts slowly here: steps of about $10^{-3}$ need thousands of updates to carry $d$ from
# its start near 1 to about $-0.09$.) Near the
# optimum the gradient shrinks but the steps do not: the parameters keep jumping around the
# minimum at a scale set by $\eta = 10^{-3}$, and the loss levels off above it. Plain gradient
# descent takes steps proportional to the gradient, so they shrink as it converges. Lowering
# RMSprop's learning rate over time (a schedule) removes the floor.
# </details>

# %% [markdown]
# ## Section 8: Your own `nn.Module`
#
# *Time estimate: about 10 minutes.*
#
# When a model is not a plain chain of existing layers, you write a module: subclass
# `nn.Module`, create the parameters in `__init__` (wrapping tensors in `nn.Parameter` registers
# them, so that `model.parameters()` finds them), and compute the output in `forward`. Like any
# Python class it can have other methods, such as a readable `string()`. Here is
# `Polynomial3` from `helpers.basics.polynomial`:

# %%
print(inspect.getsource(Polynomial3))

# %%
model = Polynomial3(START).to(DEVICE)
optimizer = torch.optim.SGD(model.parameters(), lr=LR)
history_module = fit_with_progress(fit, model, x, y, optimizer, STEPS, "Polynomial3")
results["Polynomial3 module + optim.SGD"] = (history_module[-1], coefficients_of(model))
print(model.string())
print(f"loss {history_module[-1]:.4f} after {STEPS} steps")

# %% [markdown]
# ## Section 9: Control flow and weight sharing
#
# *Time estimate: about 15 minutes.*
#
# PyTorch builds the graph anew on every forward pass, while the code runs. So `forward` can use
# ordinary Python: loops, conditions, even random choices, and each call differentiates exactly
# what that call computed. To see it, a deliberately strange model: a cubic plus, chosen at
# random on each call, nothing, $e\,x^4$, or $e\,x^4 + e\,x^5$,
#
# $$
# \hat y = a + b x + c x^2 + d x^3 + \sum_{p=4}^{K} e\, x^p,
# \qquad K \in \{3, 4, 5\} \text{ at random}.
# $$
#
# The same parameter $e$ weights both extra terms (**weight sharing**); when both are used, its
# gradient is the sum of the gradients of its two uses, because `backward` accumulates.

# %%
print(inspect.getsource(DynamicPolynomial.forward))

# %% [markdown]
# The $x^5$ term makes the loss far more curved along $e$ than along the other coefficients,
# so plain gradient descent would need a tiny step and forever. We use SGD with momentum 0.95
# and $\eta = 10^{-8}$, for 8,000 steps (the tutorial uses momentum 0.9 and runs 30,000).

# %%
dynamic = DynamicPolynomial(initial_coefficients(SEED, 5), seed=SEED).to(DEVICE)
optimizer = torch.optim.SGD(dynamic.parameters(), lr=1e-8, momentum=0.95)
history_dynamic = fit_with_progress(fit, dynamic, x, y, optimizer, training_steps(8000),
                                    "dynamic model")
results["dynamic model + SGD with momentum"] = (history_dynamic[-1], coefficients_of(dynamic))
print(dynamic.string())
print(f"last loss {history_dynamic[-1]:.4f} (the cubic optimum is {best_loss:.4f})")

# %% [markdown]
# ### Think! 9: what is this model fitting?
#
# The loss of this model is random: the same parameters give a different loss on each call.
# What does gradient descent minimise then? And could its loss go below the cubic optimum?
#
# <details>
# <summary>Model answer</summary>
#
# Each step follows the gradient of one random version of the model, so on average it descends
# the *expected* loss over the three versions: stochastic gradient descent, with the randomness
# in the model rather than in the data. A version with $x^4$ and $x^5$ terms can fit better
# than any cubic, so single losses can dip below the cubic optimum, but $e$ must serve all three
# versions at once, which keeps it small.
# </details>

# %% [markdown]
# ## Section 10: Interactive demo: how large can the learning rate be?
#
# *Time estimate: about 25 minutes.*
#
# The loss is quadratic in the coefficients, $\mathcal{L}(\theta) = \lVert V\theta - y\rVert^2$
# with $V$ the $N \times 4$ matrix of powers $1, x, x^2, x^3$. Its Hessian is $H = 2V^\top V$, and
# one step of gradient descent multiplies the error along each eigenvector of $H$ (eigenvalue
# $\lambda$) by $1 - \eta\lambda$. The error shrinks in every direction only if
# $|1 - \eta\lambda| < 1$ for all of them, that is
#
# $$
# \eta < \frac{2}{\lambda_{\max}(H)} .
# $$
#
# The targets $y$ do not enter: the Hessian, and so the limit, depend on the inputs $x$ alone.
#
# ### Coding exercise 10: `stability_limit`
#
# Write `stability_limit(x)`: given the inputs `x` (a 1-D tensor), return the largest stable
# learning rate $2/\lambda_{\max}(H)$ as a Python float. Build $V$ with the columns
# $1, x, x^2, x^3$ (`torch.stack([...], dim=1)`), work in double precision (`.double()`), and
# take the eigenvalues of the symmetric matrix $H$ with `torch.linalg.eigvalsh`, which returns
# them in ascending order. The test also tries points spread over other intervals than
# $[-\pi, \pi]$, where every column of $V$ matters. (The course's own helper for this number
# earns no points here.)

# %% nbgrader={"grade": false, "grade_id": "stability_limit", "locked": false, "schema_version": 3, "solution": true, "task": false}
def stability_limit(x):
    """The largest stable learning rate 2 / lambda_max(H) of gradient descent on the summed
    squared error of the cubic, H = 2 V^T V with V's columns 1, x, x^2, x^3.

    Args:
        x: a 1-D tensor of inputs.

    Returns:
        The limit, a Python float.
    """
    ### BEGIN SOLUTION
    powers = torch.stack([torch.ones_like(x), x, x**2, x**3], dim=1).double()
    hessian = 2 * powers.T @ powers
    return 2 / torch.linalg.eigvalsh(hessian)[-1].item()
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_stability_limit", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from helpers.basics import checks

checks.self_check("stability_limit", stability_limit)
### BEGIN HIDDEN TESTS
checks.hidden_check("stability_limit", stability_limit)
### END HIDDEN TESTS

# %% [markdown]
# Your limit for the notebook's data (`limit_of` is your `stability_limit`, or the reference's
# while yours is not done):

# %%
limit_of = EXERCISES.implementation("stability_limit", globals())
limit = limit_of(x)
print(f"largest stable learning rate 2 / lambda_max = {limit:.3g}")

# %% [markdown]
# For our data the limit is about $3.56 \times 10^{-6}$. Move the sliders (both on a log scale)
# and press *Run*: the demo trains a `Polynomial3` with `torch.optim.SGD` and your
# `fit_polynomial`, and compares the rate with your `stability_limit`. The title compares your learning rate with the limit and names the step at
# which the loss first rose above its starting value, if it did.
#
# * Start at $10^{-6}$ and raise the learning rate step by step. How does the final loss after
#   2,000 steps change as you approach the limit?
# * Cross the limit just barely (say $3.7 \times 10^{-6}$). How fast does training blow up?
# * Below the limit, how many steps does $10^{-7}$ need to get close to the optimum?

# %%
demos.lr_widget(globals(), seed=SEED, device=DEVICE)

# %% [markdown]
# Just below the limit, the steep direction converges fast, but the flattest direction, whose
# eigenvalue is about 300 times smaller, still takes many steps: that ratio, the *condition
# number* of the Hessian, not the learning rate, is what makes this simple fit slow. Just above the limit, the steepest direction grows by a factor $|1 - \eta
# \lambda_{\max}| > 1$ per step and takes over.

# %% [markdown]
# ## Section 11: Every method side by side
#
# *Time estimate: about 5 minutes.*
#
# All the runs of this notebook, with the closed-form optimum as the finish line. The table
# gives each method's last loss, its excess over the optimum, and its coefficients as a cubic
# (the Legendre model expanded, the dynamic model with its fifth coefficient $e$).

# %%
show(demos.plot_histories(
    {
        "numpy, hand gradients": history_numpy,
        "autograd": history_autograd,
        "Legendre Functions": history_legendre,
        "nn + manual update": history_nn,
        **{f"nn + {name}": h for name, h in histories_optim.items()},
        "Polynomial3 + SGD": history_module,
        "dynamic + momentum": history_dynamic,
    },
    best_loss,
    "Every method against the least-squares optimum",
))
print(demos.comparison_table(results, best_coefficients, best_loss))

# %% [markdown]
# The plain cubic fits, by hand, with autograd, with `nn` and with `optim.SGD`, end within a
# hair of the optimum with the same coefficients, $b \approx 0.857$ and $d \approx -0.093$, and
# $a$ and $c$ near zero, as they must be for an odd function such as $\sin$. Their curves lie on
# top of each other: the tools changed, the algorithm did not. RMSprop stops above the optimum
# (Think! 7), and the dynamic model, with its badly conditioned $x^5$ term, is still on its way.

# %% [markdown]
# ## Summary
#
# * Training a model is steepest-descent curve fitting: forward pass, loss, gradient, update.
#   Our cubic fit of $\sin(x)$ reaches the same least-squares optimum, computed in closed form,
#   whichever tools we use.
# * **Tensors** are numpy-like arrays that run on a GPU.
# * **Autograd** records the forward computation and applies the chain rule backwards.
#   Updates go inside `torch.no_grad()`, and gradients accumulate, so they must be cleared in
#   every step; forgetting it fails silently.
# * Check hand-written gradients with central differences and `torch.autograd.gradcheck`, in
#   double precision.
# * A `torch.autograd.Function` adds an operation with its own `forward` and `backward`.
#   `forward` saves the tensors the backward pass needs with `ctx.save_for_backward`, so that
#   autograd can check and free them; `backward` multiplies each local derivative by
#   `grad_output` and returns one gradient per input, `None` where `ctx.needs_input_grad` says
#   none is needed.
# * **`nn`** provides layers, containers and losses; **`optim`** provides the updates: every
#   loop is `zero_grad`, forward, loss, `backward`, `step`.
# * An `nn.Module` can use any Python control flow in `forward`, and reuse a parameter several
#   times.
# * Gradient descent on a quadratic loss diverges beyond $\eta = 2/\lambda_{\max}$ of the
#   Hessian, a number you can compute from the data before training, and converges slowly
#   when the Hessian is badly conditioned: the themes of the next notebooks.
