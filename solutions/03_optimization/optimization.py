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
# # Optimization techniques for deep learning
#
# Training a neural network means *searching*: among millions of possible parameter settings we
# look for one that makes a loss small. This notebook is about how that search is done and why
# it is harder than it looks. We follow one concrete problem, classifying handwritten digits
# with a multi-layer perceptron (MLP), and meet the obstacles one at a time: the dimension of
# the search space, poorly conditioned losses, non-convexity, the cost of looking at every
# example, and learning rates that suit some parameters but not others. Each obstacle comes
# with a remedy that you implement yourself.
#
# **Learning objectives.** By the end you will be able to
#
# 1. explain why following the gradient beats random search in high dimensions, and write a
#    gradient descent update with PyTorch's autograd;
# 2. recognise poor conditioning, implement momentum, and compute its step size and momentum
#    coefficient from the curvature of a quadratic;
# 3. describe how overparameterization makes non-convex training more reliable;
# 4. implement IID minibatch sampling and reason about batch size under a time budget;
# 5. implement RMSprop and compare it with SGD, momentum and Adam;
# 6. question what an objective leaves out.
#
# **Time estimate:** about 3 hours for sections 1 to 9; the bonus takes about 40 more minutes.
#
# **Exercises** (autograded): `gradient_update` (section 3), `momentum_update` and
# `momentum_hyperparameters` (section 4), `sample_minibatch` (section 6) and `rmsprop_update`
# (section 7). Replace
# `raise NotImplementedError()` in each exercise cell with your code and run the test cell below
# it: it prints a friendly line when your answer is right. The grader runs more tests than you
# see. Demos that use an exercise fall back to a reference implementation, with a one-line
# notice, until you have written it, so you can run the whole notebook at any time.
#
# **What a solution cell may use.** A solution cell may use the notebook's setup imports, its
# own imports, functions and classes and plain constants (numbers, strings, tuples of them)
# defined in the same cell, and the functions and classes you wrote in earlier exercises'
# solution cells; anything else (a variable from a demo cell, a helper in a cell you added) is
# invisible to the grader, and the self-check tells you so.
#
# *Source: this notebook follows the Neuromatch Academy tutorial "Optimization techniques"
# (W1D5, by Jose Gallego-Posada and Ioannis Mitliagkas), rewritten for this course.*

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
import torch
import torch.nn.functional as F

from helpers.data import load_mnist
from helpers.device import set_device, set_seed
from helpers.models import MLP, parameter_count
from helpers.optimization import demos
from helpers.optimization.checks import EXERCISES
from helpers.optimization.landscape import LossSlice, Quadratic, curvature_at, newton_optimum
from helpers.optimization.updates import gradient_descent
from helpers.widgets import grading_mode, show

SEED = 2021
# The committed MNIST subset (10,000 real digits), on which every number in the text holds.
# True: all 70,000 digits through torchvision (a download; the numbers then differ).
FULL_MNIST = False
set_seed(SEED)
DEVICE = set_device()
# %matplotlib inline

# %% [markdown]
# ## Section 1: Introduction
#
# *Time estimate: about 15 minutes.*
#
# Almost every deep learning method is, in the end, an optimization problem. We pick a model
# $f_w$ with parameters $w$, a data set $\{(x_n, y_n)\}_{n=1}^N$ and a loss $\ell$ that measures
# how wrong a prediction is, and we look for
#
# $$
# w^\star \in \arg\min_w \; \mathcal{L}(w), \qquad
# \mathcal{L}(w) = \frac{1}{N} \sum_{n=1}^{N} \ell\big(f_w(x_n), y_n\big).
# $$
#
# Two things can go wrong. The *optimizer* may fail to find a good $w$: too slowly, or not at
# all. And the *objective* itself may be the wrong one: a model can minimize $\mathcal{L}$
# perfectly and still do something we did not want, because $\mathcal{L}$ is only a proxy for
# what we care about. Most of this notebook is about the first problem; section 8 returns to
# the second.
#
# ### Discuss: unexpected consequences
#
# Think of an example from your own life where a poorly chosen incentive or objective led to
# an unexpected result: a metric at work that people learned to game, a grading scheme that
# rewarded memorising over understanding, a game whose high score could be reached by a bug.
# What did the objective measure, and what did it miss?
#
# <details>
# <summary>A model answer</summary>
#
# Typical examples: a call centre measured on call length hangs up on hard calls; students
# graded on keyword coverage learn keywords; a game-playing agent rewarded for points loops
# forever collecting a respawning bonus. In each case the objective measured something easy to
# count that usually goes with the goal, and missed the goal itself; optimizing hard enough
# separates the two.
#
# </details>

# %% [markdown]
# ## Section 2: Case study: an MLP for image classification
#
# *Time estimate: about 30 minutes.*
#
# Many of the core ideas of optimization for deep learning show up in a simple setting:
# training an MLP to classify the MNIST handwritten digits. We use it throughout.
#
# Some functions you write here exist in PyTorch already. We write them by hand on purpose, to
# understand what they do; in everyday work you would use the well-tested library versions, as
# you will in the bonus section.
#
# ### Section 2.1: Data
#
# `load_mnist` returns the training and test sets with pixel values normalized by the mean
# and standard deviation of the *training* images (never the test images: that would leak
# information about the test set into training). To keep every experiment fast we work with a
# random subset of 500 training examples. We call the images `X` and the labels `y`, as in the
# equations.

# %%
train_set, test_set = load_mnist(full=FULL_MNIST)

# A random subset of 500 training examples (without repetition) for the experiments below.
subset = torch.randperm(len(train_set))[:500]
X, y = train_set.data[subset].to(DEVICE), train_set.targets[subset].to(DEVICE)
print(f"X: {tuple(X.shape)} images, y: {tuple(y.shape)} labels, on {X.device}.")

# %% [markdown]
# Here are three of them, with every pixel's normalized value written on the first. Background
# pixels are slightly negative and strokes are positive: normalization centred the data around
# zero.

# %%
show(demos.plot_digits(X, y, count=3))

# %% [markdown]
# ### Section 2.2: Model
#
# We use an MLP with any number of hidden layers (possibly of different widths), ReLU
# activations, and a log-softmax at the output, so that it returns the log-probability of each
# of the 10 classes. Each $28 \times 28$ image is flattened into a vector $x \in \mathbb{R}^{784}$.
#
# With no hidden layer the MLP is a *linear* classifier (multinomial logistic regression):
#
# $$
# p(y = k \mid x) = \mathrm{softmax}(W x + b)_k = \frac{\exp\big((Wx + b)_k\big)}{\sum_{j=1}^{10} \exp\big((Wx + b)_j\big)},
# \qquad W \in \mathbb{R}^{10 \times 784}, \; b \in \mathbb{R}^{10}.
# $$
#
# Row $k$ of $W$ is a *filter* for class $k$: the class score is the dot product of the image
# with that filter. In the vocabulary of regression, the 784 pixels are the *predictors* (inputs,
# features) and the class scores the responses: with one response this would be *multiple*
# regression (several predictors), with several responses, as here, *multivariate* regression. The `MLP` class lives in `helpers.models`; open it to see its few lines.

# %%
model = MLP(in_dim=784, out_dim=10, hidden_dims=[]).to(DEVICE)
print(model)
print(f"{parameter_count(model):,} parameters")

# %% [markdown]
# ### Section 2.3: Loss
#
# We care about accuracy, but the 0-1 loss (1 for a mistake, 0 otherwise) is piecewise constant
# in $w$: its gradient is zero almost everywhere and tells us nothing. We minimize a smooth
# surrogate instead, the *cross-entropy* or negative log-likelihood (NLL):
#
# $$
# \mathcal{L}(W, b) = -\frac{1}{N} \sum_{n=1}^{N} \log p(y_n \mid x_n)
# = -\frac{1}{N} \sum_{n=1}^{N} \log \mathrm{softmax}(W x_n + b)_{y_n}.
# $$
#
# Since the model already outputs log-probabilities, PyTorch's `F.nll_loss` computes exactly
# this. For the linear model the loss is a *convex* function of $(W, b)$: every local minimum is
# a global one. Adding a hidden layer will break that (section 5).

# %%
loss_fn = F.nll_loss
print(f"Loss of the untrained model: {loss_fn(model(X), y).item():.3f} "
      f"(log 10 = {torch.log(torch.tensor(10.0)).item():.3f}: close to a uniform guess).")

# %% [markdown]
# ### Section 2.4: Interpretability
#
# Looking at a model's weights can show what it has learned. Below we train a copy of the
# linear model for 200 full-batch steps (with the Adam optimizer, which you will meet in
# section 7) and draw each class's filter as an image: dark pixels are positive weights, light
# ones negative. A positive weight raises the class's score only where the input is *inked*
# (strokes are positive after normalization); on the background, which is slightly negative
# after normalization, it lowers the score a little. Many filters look like a blurry version of
# their digit.

# %%
set_seed(SEED)
partial_model = demos.partially_train(MLP(hidden_dims=[]).to(DEVICE), X, y, steps=200, lr=7e-4)
print(f"Loss after partial training: {loss_fn(partial_model(X), y).item():.3f}")
show(demos.plot_class_filters(partial_model))


# %% [markdown]
# ## Section 3: High-dimensional search
#
# *Time estimate: about 25 minutes.*
#
# We have a model, its parameters and an objective. How do we find good parameters? A first
# idea: pick a random direction, and move there if the loss goes down. In two dimensions this
# works tolerably; in the 7,850 dimensions of our linear model almost every random direction is
# nearly orthogonal to the few directions that matter, so most random steps barely change the
# loss, or make it worse.
#
# The gradient $\nabla \mathcal{L}(w)$ points in the direction of steepest *increase*, so a small
# step against it is guaranteed to decrease a smooth loss. *Gradient descent* repeats
#
# $$
# w_{t+1} = w_t - \eta \, \nabla \mathcal{L}(w_t),
# $$
#
# where the *learning rate* (step size) $\eta > 0$ sets how far each step goes.
#
# ### Coding exercise 3: gradient descent
#
# Write `gradient_update(loss, params, lr)`, which performs one gradient descent step on every
# tensor in `params`. The three parts:
#
# 1. **Clear old gradients.** `loss.backward()` *adds* to each parameter's `.grad`, so gradients
#    from an earlier call must be reset first: for each parameter whose `.grad` is not `None`,
#    call `.grad.zero_()` (or set `.grad = None`). `helpers.optimization.updates.zero_grad(params)`
#    does exactly this, if you prefer.
# 2. **Compute the gradients**: `loss.backward()` fills `param.grad` with
#    $\partial \mathcal{L} / \partial\,\mathrm{param}$.
# 3. **Update each parameter in place**, inside `with torch.no_grad():` so that the update itself
#    is not recorded by autograd. "In place" means changing the caller's tensor (`param -= ...`
#    or `param.sub_(...)`), not creating a new one (`param = param - ...` only rebinds a local
#    name and leaves the model unchanged).
#
# The function returns nothing: its effect is the change in `params`.

# %% nbgrader={"grade": false, "grade_id": "gradient_update", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gradient_update(loss, params, lr=1e-3):
    """Perform one gradient descent step, in place, on every tensor in `params`.

    Args:
        loss: scalar tensor, computed from `params`, whose gradient we follow.
        params: list of tensors with requires_grad=True (for example list(model.parameters())).
        lr: learning rate (step size).
    """
    ### BEGIN SOLUTION
    # backward() accumulates into .grad, so clear what earlier calls left there.
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par in params:
            par -= lr * par.grad
    ### END SOLUTION


# %% [markdown]
# Run the test cell below. It applies your function to a small example, prints the parameters a
# correct update gives so that you can compare, and says so when yours match.

# %% nbgrader={"grade": true, "grade_id": "test_gradient_update", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from helpers.optimization import checks

checks.self_check("gradient_update", gradient_update)
### BEGIN HIDDEN TESTS
checks.hidden_check("gradient_update", gradient_update)
### END HIDDEN TESTS

# %% [markdown]
# ### Comparing updates: random directions versus the gradient
#
# For two models, the untrained one and the partially trained one, we measure the change in
# loss after 100 one-step random perturbations (each adds fresh Gaussian noise of standard
# deviation 0.01 to every parameter of the same starting model) and after one gradient step with
# $\eta = 0.01$. Negative changes are improvements.

# %%
gradient_step = EXERCISES.implementation("gradient_update", globals())

set_seed(SEED)
changes = {
    "At initialization": demos.loss_changes(model, X, y, gradient_step, lr=1e-2),
    "Partially trained": demos.loss_changes(partial_model, X, y, gradient_step, lr=1e-2),
}
show(demos.plot_loss_changes(changes))

# %% [markdown]
# ### Think! 3: gradient descent versus random search
#
# * Which method improves the loss more reliably? Why do *more than half* of the random
#   directions make things worse (about 80% at initialization, and all of them for the
#   partially trained model)?
# * The gradient step helps much less for the partially trained model. Why might that be, and
#   what does it suggest about the step size as training goes on?
#
# <details>
# <summary>A model answer</summary>
#
# A random perturbation $\sigma z$, $z \sim \mathcal{N}(0, I)$, changes the loss by about
# $\sigma \nabla\mathcal{L}^\top z + \tfrac12 \sigma^2 z^\top H z$. The first (linear) term is
# as likely to be negative as positive: alone, it would make half of the directions go uphill.
# The second, curvature, term is on average $\tfrac12\sigma^2 \operatorname{tr} H > 0$ for our
# convex loss (all eigenvalues of $H$ are $\ge 0$), and summed over 7,850 dimensions it is not
# small: it shifts every change uphill. After partial training the gradient is smaller, the
# linear term shrinks and the curvature term wins everywhere. The gradient step picks the one
# direction where the linear term is most negative, so it improves the loss reliably. It helps
# less after partial training because the gradient is smaller near a minimum, so a step of the
# same $\eta$ moves less, and the curvature term eats part of the gain: the step size that
# suits the start of training need not suit its end (learning-rate schedules adapt it).
#
# </details>

# %% [markdown]
# ## Section 4: Poor conditioning
#
# *Time estimate: about 40 minutes.*
#
# Even for our convex linear model, not all parameters are alike: the loss can be very
# sensitive to some and nearly indifferent to others. Such a loss is *poorly conditioned*, and
# gradient descent struggles on it: a step size small enough for the sensitive directions is
# too small for the flat ones.
#
# To look at a real loss, we freeze every parameter of the untrained linear model except two: one weight
# $u = W_{0,378}$ of class 0's filter (pixel 378 lies near the centre of the image) and the bias
# $v = b_7$ of class 7. The loss becomes a function $\mathcal{L}(u, v)$ of two numbers that we can
# draw. `LossSlice` evaluates it on a whole grid at once, and we find its minimum exactly with
# **Newton's method**, which uses the Hessian $H$ (the matrix of second derivatives):
#
# $$
# w_{t+1} = w_t - H(w_t)^{-1} \nabla \mathcal{L}(w_t).
# $$
#
# Newton's method converges in a handful of steps here, but it needs $H$, whose size is the
# square of the number of parameters: fine for 2 parameters, impossible for millions. We only
# use it to know where the optimum is.

# %%
loss_slice = LossSlice.from_model(model, X, y)
grid = loss_slice.grid(extent=4.0, points=30)
optimum = newton_optimum(loss_slice)
print(f"Optimum of the slice (Newton): weight u* = {optimum[0]:.4f}, bias v* = {optimum[1]:.4f}, "
      f"loss {loss_slice(*optimum).item():.4f}")
show(demos.plot_loss_surface(grid, optimum))

# %% [markdown]
# Gradient descent with $\eta = 0.1$, starting from $(u, v) = (2.5, 3.7)$: on the left, the
# distance to the optimum for each coordinate on a log scale; on the right, the path on the
# contours of the loss.

# %%
gd_path = demos.optimize_slice(loss_slice, gradient_descent(gradient_step, lr=0.1), steps=300)
show(demos.plot_momentum_vs_gd({"Gradient descent": gd_path}, optimum, grid))


# %% [markdown]
# The two coordinates approach the optimum at very different speeds. On a log scale a
# straight line means the error shrinks by the same factor each step (linear convergence), and
# the slope of each line is set by the curvature in that direction.
#
# ### Think! 4.1: predict before you code
#
# Momentum, defined below, adds a fraction $\beta$ of the previous step to the current one.
# Before writing it, predict: on this slice, with the same $\eta = 0.1$, will the slow
# coordinate converge faster or slower with $\beta = 0.9$? Will the path stay as smooth?
#
# <details>
# <summary>A model answer</summary>
#
# Faster: along the flat direction the gradients keep pointing the same way, so the steps add
# up to about $\eta / (1 - \beta) = 10$ times the plain step. But not as smooth: along the
# steep direction the accumulated velocity overshoots, and the path swings around the valley
# floor before settling.
#
# </details>
#
# ### Coding exercise 4: momentum
#
# *Momentum* (the "heavy ball" method) remembers where it was going. It keeps a *velocity*
# $v_t$ for each parameter, a decaying sum of past gradients:
#
# $$
# \begin{aligned}
# v_{t+1} &= \beta \, v_t - \eta \, \nabla \mathcal{L}(w_t), \\
# w_{t+1} &= w_t + v_{t+1}.
# \end{aligned}
# $$
#
# With $v_0 = 0$ this unrolls to $w_{t+1} = w_t - \eta \sum_{k=0}^{t} \beta^{t-k} \nabla \mathcal{L}(w_k)$:
# gradients that keep pointing the same way add up (faster progress along flat directions),
# while gradients that flip sign cancel (less zig-zagging across steep ones). With $\beta = 0$
# it is plain gradient descent. Note the plus sign in the second line: the minus sign is
# already inside $v$.
#
# Write `momentum_update(loss, params, grad_vel, lr, beta)`. `grad_vel` is a list with one
# velocity tensor per parameter (same shape), owned by the caller: **update each velocity
# in place** (for example `vel.mul_(beta)...`, `vel[...] = ...` or `vel.data = ...`), so that the
# next call starts from the new velocity. Clear the gradients and call `backward` as in
# exercise 3.

# %% nbgrader={"grade": false, "grade_id": "momentum_update", "locked": false, "schema_version": 3, "solution": true, "task": false}
def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):
    """Perform one momentum step, in place, on `params` and their velocities `grad_vel`.

    Args:
        loss: scalar tensor, computed from `params`.
        params: list of tensors with requires_grad=True.
        grad_vel: list of velocity tensors, one per parameter, same shapes; updated in place.
        lr: learning rate (step size).
        beta: momentum coefficient.
    """
    ### BEGIN SOLUTION
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par, vel in zip(params, grad_vel):
            vel.mul_(beta).sub_(lr * par.grad)
            par += vel
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_momentum_update", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from helpers.optimization import checks

checks.self_check("momentum_update", momentum_update)
### BEGIN HIDDEN TESTS
checks.hidden_check("momentum_update", momentum_update)
### END HIDDEN TESTS

# %% [markdown]
# ### How fast can first-order methods go? The curvature at the optimum
#
# Near its minimum $w^\star$ a smooth loss looks like a quadratic,
# $\mathcal{L}(w) \approx \mathcal{L}(w^\star) + \tfrac12 (w - w^\star)^\top H (w - w^\star)$, and
# everything about gradient descent and momentum is then decided by the eigenvalues of the
# Hessian $H$: the largest, $L$, and the smallest, $\mu$. Their ratio
# $\kappa = L / \mu$ is the **condition number**.
#
# * Gradient descent converges for $\eta < 2/L$; its best constant step $\eta = 2/(L+\mu)$
#   shrinks the error by a factor $\frac{\kappa - 1}{\kappa + 1}$ per step.
# * Momentum with the step size and coefficient that Goh ("Why Momentum Really Works",
#   *Distill*, 2017) derives for quadratics,
#
#   $$
#   \eta = \left(\frac{2}{\sqrt{L} + \sqrt{\mu}}\right)^2, \qquad
#   \beta = \left(\frac{\sqrt{\kappa} - 1}{\sqrt{\kappa} + 1}\right)^2,
#   $$
#
#   shrinks it by $\frac{\sqrt{\kappa} - 1}{\sqrt{\kappa} + 1}$ per step *asymptotically*: this is
#   the rate after many steps (the spectral radius of the iteration); over the first steps the
#   error can even grow for a while. For $\kappa = 100$ that is 0.82 instead of 0.98, about ten
#   times fewer steps: momentum needs about $\sqrt{\kappa}$ rather than $\kappa$ steps per
#   digit of accuracy.
#
# ### Coding exercise 4.2: momentum's hyperparameters from the curvature
#
# Write `momentum_hyperparameters(eigenvalues)`, which takes the Hessian's eigenvalues (a list
# or array of positive numbers, **in any order**) and returns the tuple
# `(condition_number, gd_step, momentum_lr, momentum_beta)`: $\kappa$, gradient descent's best
# step $2/(L+\mu)$, and Goh's $\eta$ and $\beta$ above. Plain Python (`math.sqrt`) or numpy
# are both fine.

# %% nbgrader={"grade": false, "grade_id": "momentum_hyperparameters", "locked": false, "schema_version": 3, "solution": true, "task": false}
def momentum_hyperparameters(eigenvalues):
    """Condition number, gradient descent's best step, and Goh's momentum step and beta.

    Args:
        eigenvalues: the Hessian's eigenvalues (positive numbers, in any order).

    Returns:
        (condition_number, gd_step, momentum_lr, momentum_beta) as four floats.
    """
    ### BEGIN SOLUTION
    largest, smallest = max(eigenvalues), min(eigenvalues)
    kappa = largest / smallest
    gd_step = 2 / (largest + smallest)
    momentum_lr = (2 / (largest**0.5 + smallest**0.5)) ** 2
    momentum_beta = ((kappa**0.5 - 1) / (kappa**0.5 + 1)) ** 2
    return kappa, gd_step, momentum_lr, momentum_beta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_momentum_hyperparameters", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from helpers.optimization import checks

checks.self_check("momentum_hyperparameters", momentum_hyperparameters)
### BEGIN HIDDEN TESTS
checks.hidden_check("momentum_hyperparameters", momentum_hyperparameters)
### END HIDDEN TESTS

# %% [markdown]
# Let us compute these numbers for our slice, with your function.

# %%
hyperparameters = EXERCISES.implementation("momentum_hyperparameters", globals())
slice_eigenvalues = curvature_at(loss_slice, optimum).eigenvalues
kappa, gd_step, momentum_lr, momentum_beta = hyperparameters(slice_eigenvalues)
print(f"Hessian eigenvalues at the optimum: {slice_eigenvalues[0]:.4f}, {slice_eigenvalues[1]:.4f}")
print(f"Condition number kappa = {kappa:.2f}")
print(f"Gradient descent: best step 2/(L+mu) = {gd_step:.2f}")
print(f"Momentum (Goh 2017): step {momentum_lr:.2f}, beta = {momentum_beta:.3f}")

# %% [markdown]
# Two lessons are already visible. The curvature here is small, so the step sizes that theory
# recommends are *far* larger than the $\eta = 0.1$ used above: much of gradient descent's
# slowness came from timid steps, not from conditioning. And this slice is only mildly
# ill-conditioned: $\kappa \approx 3.8$ at its optimum, so $\sqrt{\kappa}$ and $\kappa$ are
# close and momentum has little to gain.
#
# Real networks have condition numbers in the thousands and more, but they cannot be drawn. To
# *see* poor conditioning, we put beside the slice a two-parameter quadratic bowl,
# `Quadratic`, whose Hessian has eigenvalues $L = 1$ and $\mu = 0.01$ ($\kappa = 100$), with its
# long valley tilted so that both coordinates feel the steep and the flat direction.

# %%
bowl = Quadratic(condition_number=100.0)
bowl_optimum = newton_optimum(bowl)
bowl_eigenvalues = curvature_at(bowl, bowl_optimum).eigenvalues
kappa, gd_step, momentum_lr, momentum_beta = hyperparameters(bowl_eigenvalues)
print(f"Bowl: kappa = {kappa:.0f}; gradient descent's best step {gd_step:.2f}; "
      f"momentum: step {momentum_lr:.2f}, beta = {momentum_beta:.2f}")

# %% [markdown]
# ### Interactive demo 4: momentum versus gradient descent
#
# Both methods start from $(2.5, 3.7)$ on the bowl with the same learning rate. Move the
# sliders (the learning rate is on a log scale), or press the button to use the values your
# `momentum_hyperparameters` recommends. Under the figure, each method's number of iterations
# to bring both coordinates within $10^{-2}$ of the optimum (for good) is printed.
#
# 1. With $\eta = 1$, find a $\beta$ that brings both coordinates within $10^{-2}$ of the
#    optimum in fewer than 100 iterations. (With $\beta = 0$, gradient descent, it takes more
#    than 500.)
# 2. Press the button. How many iterations does momentum need now? What does gradient descent
#    do at that step size, and what happens to momentum if you double the learning rate?

# %%
momentum_step = EXERCISES.implementation("momentum_update", globals())
demos.momentum_widget(
    bowl, bowl_optimum, bowl_eigenvalues, gradient_step, momentum_step, hyperparameters
)

# %% [markdown]
# ### Think! 4: momentum and oscillations
#
# * How does this example show poor conditioning? How does momentum help with it?
# * Do you see oscillations for some settings? Where do they come from, and why can a method
#   that oscillates still converge faster?
#
# <details>
# <summary>A model answer</summary>
#
# The bowl is 100 times steeper across its valley than along it. A step size small enough for
# the steep direction ($\eta < 2/L = 2$) moves along the valley floor by at most a fraction
# $\eta\mu \le 0.02$ of the remaining distance per step: gradient descent at its best step
# needs about 300 iterations. Momentum lets the consistent gradients along the valley build
# up speed, while the alternating gradients across it cancel: with the recommended settings it
# needs about 50 iterations. Oscillations come from the velocity carrying the iterate past the
# valley floor; the recommended $\beta$ makes the iteration's modes complex with modulus
# $\sqrt{\beta} = 0.82$ in *every* direction, so the path spirals in, yet the error along the
# slow direction shrinks by 0.82 per step instead of 0.98. At twice the recommended step,
# the steep direction is beyond momentum's stability limit $\eta < 2(1+\beta)/L$ and the run
# diverges; gradient descent already diverges at the recommended step, which exceeds $2/L$.
#
# </details>

# %% [markdown]
# ## Section 5: Non-convexity
#
# *Time estimate: about 25 minutes.*
#
# Add a single hidden layer and the loss is no longer convex: it can have many local minima,
# saddle points and flat regions, and where gradient descent ends up depends on where it
# starts. From here on, all our problems are non-convex.
#
# One dimension already shows the difference. $f(x) = x^2 + 2x + 1 = (x+1)^2$ is convex: from
# any start, gradient descent with a small enough step reaches its only minimum, $x = -1$.
# $g(x) = x^4 + x^3 - 2x^2 - 2x$ is not: it has two local minima of different depths, and the
# one gradient descent finds depends on the starting point.

# %%
show(demos.plot_convex_vs_nonconvex())

# %% [markdown]
# Yet in practice large networks train remarkably reliably. One reason is
# **overparameterization**: networks with many more parameters than strictly needed tend to
# have losses whose local minima are nearly all as good as the global one, and that are easier
# to descend (Choromanska et al., *The loss surfaces of multilayer networks*, AISTATS 2015;
# for very wide networks gradient descent provably reaches zero training loss: Du et al.,
# *Gradient descent finds global minima of deep neural networks*, ICML 2019, and Jacot et al.,
# *Neural tangent kernel*, NeurIPS 2018).
#
# ### Interactive demo 5: overparameterization to the rescue
#
# We build one MLP, make several copies of it whose weights are perturbed by a little random
# noise, and train each copy with full-batch gradient descent (your `gradient_update`) on the
# 500 examples. For a convex loss the copies, starting close together, would all end at about
# the same loss. Choose the hidden layers and compare the spread of the curves. Press *Run* after
# changing the settings; the title shows the number of parameters.

# %%
set_seed(SEED)
demos.overparameterization_widget(X, y, gradient_step)

# %% [markdown]
# ### Think! 5: width and depth
#
# * Wider and deeper networks reach low loss faster here, and their copies disagree less. Why
#   might that be?
# * What are the drawbacks of dealing with non-convexity by making models bigger?
#
# <details>
# <summary>A model answer</summary>
#
# With more parameters there are more directions to descend in: a point that is a local
# minimum in a few dimensions is rarely one in all of them, and many different parameter
# settings fit the data, so each copy finds one nearby. Wide networks also stay close to their
# initialization, where the loss behaves almost like a convex one. The drawbacks: more
# computation and memory per step, more data or regularization needed to avoid overfitting, and
# models that are harder to interpret and costlier to deploy.
#
# </details>

# %% [markdown]
# ## Section 6: Full gradients are expensive
#
# *Time estimate: about 25 minutes.*
#
# So far every update used all 500 examples. Real training sets have tens of thousands to
# billions of examples, and the cost of one forward and backward pass grows linearly with their
# number. From now on we use the whole training set we loaded.

# %%
X_all, y_all = train_set.data.to(DEVICE), train_set.targets.to(DEVICE)
print(f"Full training set: {len(X_all):,} examples.")

# %% [markdown]
# ### Interactive demo 6.1: the cost of computation
#
# The plot shows the time of one forward pass (computing the loss) and one backward pass
# (computing the gradients) against the number of examples, averaged over a few repetitions.
# Choose different model sizes and watch the scale of the vertical axis.

# %%
demos.computation_time_widget(X_all, y_all)


# %% [markdown]
# ### Coding exercise 6: minibatch sampling
#
# The full-data loss is an average over examples, so its gradient is an average too. If we pick
# $B$ indices $i_1, \dots, i_B$ **independently and uniformly at random** (IID: with
# replacement), the average of their gradients is an *unbiased* estimate of the full gradient,
#
# $$
# \mathbb{E}\left[\frac{1}{B}\sum_{b=1}^{B} \nabla \ell_{i_b}(w)\right]
# = \frac{1}{N}\sum_{n=1}^{N} \nabla \ell_n(w) = \nabla \mathcal{L}(w),
# $$
#
# at a cost that depends on $B$, not $N$. Sampling *without* replacement is unbiased too (every
# example is equally likely to be in the batch), but its draws are not independent: once an
# example is drawn it cannot be drawn again, which slightly lowers the estimate's variance.
# Gradient descent with such estimates is *stochastic gradient descent* (SGD).
#
# Write `sample_minibatch(input_data, target_data, num_points)`, returning
# `(batch_inputs, batch_targets)`: `num_points` examples drawn uniformly at random, each call a
# new draw. Row $i$ of `batch_targets` must be the label of the example in row $i$ of
# `batch_inputs`, so draw the indices once and use them for both. Sampling with replacement
# (`torch.randint`) or without (`torch.randperm`, `np.random.choice(..., replace=False)`) are both
# fine. (This is not a trick question.)

# %% nbgrader={"grade": false, "grade_id": "sample_minibatch", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sample_minibatch(input_data, target_data, num_points=100):
    """Draw `num_points` examples uniformly at random from the data set.

    Args:
        input_data: tensor of inputs, one example per row (first dimension).
        target_data: tensor of targets, aligned with `input_data`.
        num_points: number of examples in the minibatch.

    Returns:
        (batch_inputs, batch_targets): rows of `input_data` and the matching targets.
    """
    ### BEGIN SOLUTION
    batch_indices = torch.randint(len(input_data), (num_points,), device=input_data.device)
    return input_data[batch_indices], target_data[batch_indices]
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_sample_minibatch", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from helpers.optimization import checks

checks.self_check("sample_minibatch", sample_minibatch)
### BEGIN HIDDEN TESTS
checks.hidden_check("sample_minibatch", sample_minibatch)
### END HIDDEN TESTS

# %% [markdown]
# ### Interactive demo 6.2: minibatch sizes under a time budget
#
# What is the trade-off in the batch size? Below, one copy of an MLP with two hidden layers of
# 100 units is trained per batch size, each for the same wall-clock time, with your
# `sample_minibatch` and `gradient_update`. Each panel shows the minibatch loss against
# seconds; the title counts the updates made in the budget. Edit the comma-separated batch
# sizes and learning rates (one per batch size) and press *Run*.

# %%
minibatch = EXERCISES.implementation("sample_minibatch", globals())
set_seed(SEED)
demos.minibatch_widget(X_all, y_all, gradient_step, minibatch)


# %% [markdown]
# Small batches make many cheap, noisy updates; large batches make few, accurate ones. The
# noise of a small batch's gradient limits how large a learning rate it tolerates, while a
# large batch can take bigger steps with confidence. Tune the learning rate of each batch size:
# which of them bring the loss reliably below 0.5 within the default 0.3 seconds? Then give
# each more seconds (the dropdown): which batch size gains the most from a longer budget?

# %% [markdown]
# ## Section 7: Adaptive methods
#
# *Time estimate: about 25 minutes.*
#
# By now you have met many knobs: the loss and its regularization, the architecture, and for
# the optimizer the learning rate, the batch size and the momentum. Here we look at methods
# that tune part of this themselves: they give **each parameter its own effective step size**,
# adapted to the size of its recent gradients. That directly attacks poor conditioning, where
# one step size cannot suit every direction. The first was **Adagrad** (Duchi, Hazan and
# Singer, 2011), which divides by the square root of the *sum* of all past squared gradients,
# so that its steps only ever shrink; **RMSprop** (Hinton, 2012) replaces the sum by a moving
# average; **Adam** (Kingma and Ba, 2015) adds a moving average of the gradients; **AMSGrad**
# (Reddi, Kale and Kumar, 2018) keeps the running maximum of Adam's second moment, which
# repairs cases where Adam does not converge.
#
# ### Coding exercise 7: RMSprop
#
# RMSprop keeps, for each parameter, an exponential moving average $v_t$ of its squared
# gradients, and divides the step by its square root:
#
# $$
# \begin{aligned}
# v_{t+1} &= \alpha \, v_t + (1 - \alpha) \, \big(\nabla \mathcal{L}(w_t)\big)^2, \\
# w_{t+1} &= w_t - \eta \, \frac{\nabla \mathcal{L}(w_t)}{\sqrt{v_{t+1} + \epsilon}}.
# \end{aligned}
# $$
#
# All operations are *elementwise*: the square, the square root and the division apply to each
# entry separately. Parameters with consistently large gradients get smaller steps, those with
# small gradients larger ones. The small $\epsilon$ (for example $10^{-8}$) keeps the division
# safe where $v$ is tiny; note that here it sits *inside* the square root. PyTorch's
# `torch.optim.RMSprop` puts it outside, dividing by $\sqrt{v_{t+1}} + \epsilon$, and its
# default decay is $\alpha = 0.99$ (we use 0.8 in the demos): the two agree for
# $\epsilon = 0$.
#
# Write `rmsprop_update(loss, params, grad_sq, lr, alpha, epsilon)`. `grad_sq` holds one moving
# average per parameter, owned by the caller: **update it in place**, as with the velocities
# of exercise 4, and use the *new* average in the parameter update.

# %% nbgrader={"grade": false, "grade_id": "rmsprop_update", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):
    """Perform one RMSprop step, in place, on `params` and their averages `grad_sq`.

    Args:
        loss: scalar tensor, computed from `params`.
        params: list of tensors with requires_grad=True.
        grad_sq: list of moving averages of squared gradients, one per parameter; updated in place.
        lr: learning rate (step size).
        alpha: decay of the moving average.
        epsilon: small constant added inside the square root for numerical stability.
    """
    ### BEGIN SOLUTION
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par, gsq in zip(params, grad_sq):
            gsq.mul_(alpha).add_((1 - alpha) * par.grad**2)
            par -= lr * par.grad / torch.sqrt(gsq + epsilon)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_rmsprop_update", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from helpers.optimization import checks

checks.self_check("rmsprop_update", rmsprop_update)
### BEGIN HIDDEN TESTS
checks.hidden_check("rmsprop_update", rmsprop_update)
### END HIDDEN TESTS

# %% [markdown]
# ### Interactive demo 7: comparing optimizers
#
# Now compare SGD, momentum ($\beta = 0.9$) and RMSprop ($\alpha = 0.8$), all with your code,
# and Adam, as PyTorch ships it (`torch.optim.Adam`; notebook 04 has you write it).
# Adam divides by the square root of an RMSprop-style
# average of squared gradients, and replaces the gradient by its first moment
# $m_{t+1} = \beta_1 m_t + (1 - \beta_1) \nabla\mathcal{L}(w_t)$: a *dampened* running average,
# whose $(1 - \beta_1)$ factor keeps it at the scale of one gradient, unlike the heavy-ball
# velocity, which sums past gradients and grows to about $1/(1-\beta)$ times one (Adam also
# corrects the bias of both averages in early steps). All four start from the same MLP with two
# hidden layers of 100 units, use the same learning rate and see the same minibatches.

# %%
rmsprop_step = EXERCISES.implementation("rmsprop_update", globals())
set_seed(SEED)
demos.compare_optimizers_widget(
    X_all, y_all, gradient_step, momentum_step, rmsprop_step, minibatch
)

# %% [markdown]
# ### Think! 7.1: compare optimizers
#
# Tune each method so that it does well, and discuss. How robust is each to small changes of
# the learning rate? How easy was it to find good settings?
#
# **Why past gradients?** The gradient is *local*: it describes the loss only at the current
# point. Momentum and adaptive methods both fold past gradients into the update, which gives
# them information about the shape of the loss (its curvature, the scale of each direction)
# that no single gradient holds.
#
# ### Think! 7.2: loss function and optimization
#
# Can you think of other ways of giving an optimizer more information about the loss?
#
# <details>
# <summary>A model answer</summary>
#
# *Think! 7.1.* Adam and RMSprop usually work over a wider range of learning rates than SGD,
# because their per-parameter scaling undoes differences in gradient size; SGD and momentum
# need their learning rate tuned more finely, and momentum diverges first when it is too
# large. *Think! 7.2.* Second-order information: Newton's method or quasi-Newton methods
# (L-BFGS) estimate the curvature; natural-gradient methods and K-FAC approximate it per layer;
# larger batches give less noisy gradients; line searches evaluate the loss at several points
# along a direction; and normalization or a better parameterization changes the loss itself
# so that it is better conditioned.
#
# </details>

# %% [markdown]
# ## Section 8: Ethical concerns
#
# *Time estimate: about 15 minutes.*
#
# An optimizer does exactly what the objective asks, and nothing else. Whatever the objective
# leaves out, the optimized model is free to sacrifice.
#
# Take our own loss. It is an **average** over examples: $\frac{1}{N}\sum_n \ell_n$. Suppose 95%
# of the training images come from one population of writers and 5% from another whose digits
# look different. A model can reach an excellent average loss while misclassifying a large part
# of the minority group: their errors weigh only 5% in the objective, and the optimizer trades
# them away if that helps the majority. Reported accuracy, also an average, hides it too. The
# same mechanism operates in systems with real stakes, such as face recognition that works
# worse for under-represented groups, or a recommender trained to maximize average watch time
# that learns to promote whatever keeps people watching, including outrage and misinformation,
# because neither accuracy on minorities nor the well-being of users is part of the objective.
#
# Remedies exist (reweighting groups, optimizing the worst group's loss, adding constraints),
# but each is itself a choice of objective, with its own trade-offs. No optimizer can make that
# choice for us.
#
# ### Discuss
#
# * Pick a system you use (a feed, a search engine, a navigation app). What does it plausibly
#   optimize? What does that objective neglect, and who bears the cost?
# * How would you check whether a digit classifier serves all groups of writers equally well?
#   What would you need to measure that the average loss does not show?
#
# <details>
# <summary>A model answer</summary>
#
# A feed plausibly optimizes engagement (clicks, watch time); it neglects accuracy and the
# long-term well-being of users, and the cost falls on them and on the people its content is
# about. For the digit classifier: record who wrote each digit (or a proxy such as the school
# or the country), and report the loss and accuracy *per group*, especially the worst group's,
# with enough examples per group for the numbers to mean something.
#
# </details>

# %% [markdown]
# ## Section 9: Summary
#
# * Training is optimization, and the objective is a proxy: a well-optimized model can still
#   do the wrong thing.
# * In high dimensions random search is hopeless; the gradient gives a reliable descent
#   direction, and autograd computes it.
# * Poor conditioning slows gradient descent. Momentum accumulates past gradients and, with
#   step size and $\beta$ chosen from the curvature, needs asymptotically about $\sqrt{\kappa}$
#   rather than $\kappa$ steps per digit of accuracy (on the $\kappa = 100$ bowl: about 50
#   iterations instead of 300).
# * Non-convex losses depend on the starting point; overparameterized networks are easier and
#   more reliable to train.
# * Full gradients are expensive. IID minibatches give unbiased gradient estimates at a fixed
#   cost, and the batch size trades noise against speed.
# * Adaptive methods such as RMSprop and Adam give each parameter its own step size, which makes
#   them easier to tune.
#
# If you have time, the bonus puts everything together with PyTorch's own tools.

# %% [markdown]
# ## Bonus: train your own model, and beat the benchmark
#
# *Time estimate: about 40 minutes.*
#
# You now know what is inside an optimizer. In practice you would use PyTorch's: every rule
# in `torch.optim` (SGD with momentum, RMSprop, Adam, ...) keeps its state internally and
# exposes the same two calls, `optimizer.zero_grad()` and `optimizer.step()`. An optimizer
# is created with
#
# 1. the parameters it controls (for example `model.parameters()`; different groups of
#    parameters may get different settings), and
# 2. its hyperparameters: learning rate, momentum, moving-average coefficients, ...
#
# Data comes from `DataLoader`s, which shuffle the training set each epoch and serve it in
# minibatches. Ours use two worker processes seeded with `seed_worker`, so runs are
# reproducible. We hold out 12.5% of the training set for **validation**: we tune our choices on
# it, and look at the test set only once, at the end.
#
# Our benchmark is an MLP with hidden layers of 100 and 50 units, trained by
# `scripts/train_benchmark.py` with Adam (learning rate $10^{-3}$, batch size 64, 8 epochs,
# seed 2021) on the course's offline MNIST subset (7,000 training images). It reaches **99.0%
# training accuracy and 93.8% test accuracy** (2,000 test images); its weights are in
# `data/benchmark_mlp.pt`. The training loop is `train_model` in `helpers/training.py`: read it,
# it is short.
#
# Your mission: choose the architecture, the optimizer and its settings below so that your
# model beats the benchmark on the test set.

# %%
from helpers.training import (
    evaluate,
    load_benchmark,
    make_loader,
    plot_training_curves,
    split_validation,
    train_model,
)

# Your choices: the architecture, the optimizer and its settings, the epochs and batch size.
MAX_EPOCHS = 2
LR = 1e-3
BATCH_SIZE = 64
set_seed(SEED)
my_model = MLP(hidden_dims=[200, 100, 50]).to(DEVICE)
optimizer = torch.optim.Adam(my_model.parameters(), lr=LR)
# Other choices to try (read the documentation of each first):
# optimizer = torch.optim.SGD(my_model.parameters(), lr=LR, momentum=0.9)
# optimizer = torch.optim.RMSprop(my_model.parameters(), lr=LR, alpha=0.99)
# optimizer = torch.optim.Adagrad(my_model.parameters(), lr=LR)

train_part, val_part = split_validation(train_set, validation_fraction=0.125, seed=SEED)
train_loader = make_loader(train_part, BATCH_SIZE, shuffle=True, seed=SEED)
val_loader = make_loader(val_part, 256, shuffle=False, seed=SEED)
test_loader = make_loader(test_set, 256, shuffle=False, seed=SEED)

# %%
if grading_mode():
    print("Training skipped while grading.")
else:
    metrics = train_model(my_model, optimizer, train_loader, val_loader, MAX_EPOCHS, DEVICE)
    show(plot_training_curves(metrics))

# %% [markdown]
# ### Think! Bonus: metrics
#
# Which metric did you optimize while searching for good settings: the training loss, the
# training accuracy, the validation loss or accuracy? Why? What goes wrong if you tune on the
# test set?
#
# <details>
# <summary>A model answer</summary>
#
# The validation accuracy (or loss), because it estimates how the model does on data it has
# not seen, which is what we care about; the training numbers reward memorising. Tuning on the
# test set makes it part of the training process: the choices fit its particular examples, and
# its score no longer estimates performance on new data (it is optimistic).
#
# </details>
#
# ### Evaluation
#
# Finally, both models meet examples they have never seen. Which one would you choose?
#
# <details>
# <summary>A model answer</summary>
#
# The one with the better *validation* score, chosen before looking at the test set; the test
# score then tells how well it will do on new data. A model with a much higher training than
# test accuracy overfits; between two models with similar test scores, prefer the smaller or
# cheaper one.
#
# </details>

# %%
benchmark_model, benchmark_report = load_benchmark(DEVICE)
for name, candidate in [("Your model", my_model), ("Benchmark", benchmark_model)]:
    train_loss, train_acc = evaluate(candidate, train_loader, DEVICE)
    test_loss, test_acc = evaluate(candidate, test_loader, DEVICE)
    print(f"{name:>10}: train loss {train_loss:.3f}, accuracy {100 * train_acc:.1f}% | "
          f"test loss {test_loss:.3f}, accuracy {100 * test_acc:.1f}%")

# %% [markdown]
# (With `FULL_MNIST = True` in the setup cell, the benchmark's numbers above are measured on
# the full torchvision data set and differ from the ones quoted for the committed subset.)
