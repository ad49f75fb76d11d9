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
# # Optimizers as rules: keeping the state apart
#
# Every optimizer you have met so far does two things at once: it *computes a step* from a
# gradient, and it *remembers* something between steps (a velocity, a running average of
# squared gradients, a step count). `torch.optim` bundles both into one object that also holds
# references to the model's parameters. This notebook pulls the two apart. An optimizer becomes
# a **rule**, a small immutable object of hyperparameters that knows how to turn a gradient
# into a step, and a separate **state** that mirrors the model and holds everything the rule
# remembers. The design comes from optax (JAX) and Optimisers.jl (Julia); we bring it to
# PyTorch, use it to fit a hand-made model, and then write the best-known optimizers
# ourselves: Nesterov momentum, Adagrad, Adam and AdamW, followed by a warm-up schedule and
# the chain that composes rules.
#
# **Learning objectives.** By the end you will be able to
#
# 1. explain what an optimizer remembers between steps, and where `torch.optim` keeps it;
# 2. train a model with `setup` and `update`, the rule protocol of this notebook, and say why
#    a parameter that is not registered never moves;
# 3. implement Nesterov momentum, Adagrad, Adam with bias correction, and AdamW, and explain
#    each one's state;
# 4. explain why AdamW's decoupled weight decay differs from an L2 penalty in Adam;
# 5. change the learning rate during training with schedules, write a warm-up schedule, and
#    compose rules with a chain;
# 6. say when a decaying schedule pays off (noisy minibatch gradients) and when it does not;
# 7. map every option of `torch.optim` onto these rules, and choose between the two.
#
# **Time estimate:** about 2 hours 40 minutes (sections 1 to 4: 35 minutes; the exercises of
# section 5: 50 minutes; section 6 and its two exercises: 40 minutes; sections 7 to 9:
# 35 minutes).
#
# **Exercises** (autograded): the rule classes `Nesterov`, `Adagrad`, `Adam` and `AdamW`
# (section 5), the schedule `warmup` and the rule `Chain` (section 6). In each exercise cell,
# replace `raise NotImplementedError()` with your code and run the test cell below it: it
# prints a friendly line when your answer takes the same steps as the reference (and, for the
# rules of section 5, as `torch.optim`). The grader runs more tests than you see.
# Demos that use an exercise fall back to a reference implementation, with a one-line notice,
# until you have written it, so you can run the whole notebook at any time.
#
# **What a solution cell may use.** A solution cell may use the notebook's setup imports, its
# own imports, functions and classes and plain constants (numbers, strings, tuples of them)
# defined in the same cell, and the functions and classes you wrote in earlier exercises'
# solution cells; anything else (a variable from a demo cell, a helper in a cell you added) is
# invisible to the grader, and the self-check tells you so.
#
# *Source: this notebook follows Satoshi Terasaki's introduction to Optimisers.jl (in Japanese,
# for Julia), rewritten for PyTorch and extended for this course.*

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

import torch
from torch import nn

from helpers.device import set_device, set_seed
from helpers.rules import demos
from helpers.rules.affine import Affine, affine_data, fit, mse_distance
from helpers.rules.checks import EXERCISES
from helpers.rules.protocol import (
    ClipNorm,
    Descent,
    Momentum,
    Rule,
    WeightDecay,
    adjust,
    freeze,
    gradients,
    setup,
    thaw,
    update,
    update_,
)
from helpers.rules.schedules import constant, cosine_decay, step_decay
from helpers.widgets import show

SEED = 2021
set_seed(SEED)
DEVICE = set_device()
# %matplotlib inline

# %% [markdown]
# ## Section 1: Where does an optimizer keep its memory?
#
# *Time estimate: about 10 minutes.*
#
# Gradient descent needs nothing but the current gradient $g_t = \nabla \mathcal{L}(w_t)$:
#
# $$
# w_{t+1} = w_t - \eta \, g_t .
# $$
#
# Momentum already needs more. It keeps a velocity $v_t$ for every parameter tensor and
# updates it at every step:
#
# $$
# v_{t+1} = \beta \, v_t + \eta \, g_t, \qquad w_{t+1} = w_t - v_{t+1}.
# $$
#
# (This is notebook 03's momentum with the sign of $v$ flipped: here $v$ points *uphill* and is
# subtracted, which makes every rule below end in the same way, "parameter minus step".)
#
# The velocity is **optimizer state**: numbers that are neither parameters nor hyperparameters
# and that the next step depends on. `torch.optim` keeps it *inside the optimizer object*, in
# a dictionary keyed by the parameter tensors themselves. Let us look.

# %%
probe = nn.Linear(3, 2)
optimizer = torch.optim.SGD(probe.parameters(), lr=0.1, momentum=0.9)
probe(torch.ones(4, 3)).pow(2).sum().backward()
optimizer.step()

for param, param_state in optimizer.state.items():
    print(f"parameter of shape {tuple(param.shape)} -> {list(param_state)}")
hyperparameters = {k: v for k, v in optimizer.param_groups[0].items() if k != "params"}
print("param_groups[0] without the parameters:", hyperparameters)

# %% [markdown]
# The optimizer owns three kinds of things at once: references to the parameters, their state
# (`momentum_buffer`) and the hyperparameters (in `param_groups`, with several options). That is
# convenient, but it makes the state hard to see, to copy, or to reason about: a step *mutates*
# the parameters and the hidden state together.
#
# **The rule protocol.** optax and Optimisers.jl keep three things apart instead:
#
# - a **rule** is an immutable object of hyperparameters with two methods,
#   `init(param) -> state` (what to remember for one parameter tensor, before the first step)
#   and `apply(state, param, grad) -> (new_state, step)`; the new parameter is `param - step`;
# - the **state** is a separate tree with one entry (a *leaf*) per parameter tensor, built by
#   `setup(rule, model)`;
# - a training step is a function, `state, model = update(state, model, grads)`.
#
# Two more rules of the protocol. `apply` must **not modify `param` or `grad`**: `param` is the
# model's own tensor (or, inside `update`, its copy's) and `grad` the caller's gradient, and the
# caller subtracts the returned step itself, so a parameter that `apply` also changed in place
# would move twice. `apply` may change its *own state's* tensors in place, as long as it
# returns the new state. And **step counts start at 0**: a state fresh from `init` has taken
# no steps, so a rule that counts its steps (Adam, in section 5) stores 0 there and uses
# $t = 1$ during its first step; a schedule (section 6) is asked for the rate of step $t = 0$
# first.
#
# Here is `Momentum` from `helpers.rules.protocol`. Its `__init__` hands the hyperparameters
# to the base class `Rule`, which makes them read-only attributes (`rule.lr` works,
# `rule.lr = 0.5` raises an error); the two methods hold the mathematics above and nothing
# else.

# %%
print(inspect.getsource(Momentum))

# %% [markdown]
# `setup` builds the state tree for a model: one leaf per trainable parameter, each holding the
# rule and what `init` returned.

# %%
momentum_state = setup(Momentum(lr=0.1, beta=0.9), probe)
print(momentum_state)

# %% [markdown]
# ### Think! 1: what do we gain?
#
# The state is now a plain value, apart from the rule and the model. Name two things that
# become easy with this design and are awkward with `torch.optim`. And one thing that becomes
# harder?
#
# <details>
# <summary>Model answer</summary>
#
# Easy: saving, printing or comparing the state (it is just data); trying two different futures
# from the same point (keep the old state, the update does not change it); changing a
# hyperparameter or freezing part of the model without rebuilding anything; using one rule
# object for every parameter; writing a new optimizer as two short methods that can be tested
# on single tensors. Harder: we must carry the state around and pass it back at every step,
# and pure updates copy tensors, which costs memory and time on large models; `torch.optim`
# also ships fused multi-tensor kernels that a per-tensor rule does not get for free.
# </details>

# %% [markdown]
# ## Section 2: A hand-made affine model
#
# *Time estimate: about 10 minutes.*
#
# Our model maps $x \in \mathbb{R}^3$ to $\mathbb{R}^2$ by an affine map,
#
# $$
# \mathrm{Affine}(W, b): \; x \mapsto W x + b, \qquad W \in \mathbb{R}^{2 \times 3}, \;
# b \in \mathbb{R}^{2},
# $$
#
# with $W$ and $b$ drawn uniformly from $[0, 1)$. The data come from a ground-truth affine map
# $(W_0, b_0)$ drawn the same way from a fixed seed: 100 inputs $x_n$ uniform in $[0, 1)^3$ and
# their images $y_n = W_0 x_n + b_0$. The model should learn to imitate the ground truth. The
# loss is the mean over the data set of the squared distance between prediction and target:
#
# $$
# \mathcal{L}(W, b) = \frac{1}{N} \sum_{n=1}^{N} \big\lVert W x_n + b - y_n \big\rVert^2 .
# $$
#
# (PyTorch's `F.mse_loss` would also average over the two outputs, halving the loss.) The
# model is an ordinary `nn.Module`. What makes $W$ and $b$ *trainable* is that they are
# `nn.Parameter`s: a module registers every parameter assigned to it, and
# `model.named_parameters()` lists them. Rows of the input batch are examples, so the batched
# model computes `x @ W.T + b`.

# %%
print(inspect.getsource(Affine))

# %%
inputs, targets, truth = affine_data()
inputs, targets, truth = inputs.to(DEVICE), targets.to(DEVICE), truth.to(DEVICE)
model = Affine().to(DEVICE)

print(f"inputs {tuple(inputs.shape)}, targets {tuple(targets.shape)}")
print("trainable parameters:", [name for name, _ in model.named_parameters()])
print(f"loss of the untrained model: {mse_distance(model(inputs), targets).item():.4f}")

# %% [markdown]
# ## Section 3: Training with `setup` and `update`
#
# *Time estimate: about 10 minutes.*
#
# Training with plain gradient descent, `Descent(0.1)`, takes four lines per step:
# compute the loss, compute its gradients, update, log. `gradients(loss, model)` returns
# `{name: gradient}` for every trainable parameter without touching `.grad`: gradients are a
# value too. `update` is **pure**: it returns a *new* state and a *new* model and leaves its
# inputs untouched, which is why we rebind both names.

# %%
rule = Descent(0.1)
state = setup(rule, model)

for epoch in range(1, 501):
    loss = mse_distance(model(inputs), targets)
    state, model = update(state, model, gradients(loss, model))
    if epoch % 50 == 0:
        with torch.no_grad():
            print(f"epoch {epoch:3d}: loss {mse_distance(model(inputs), targets).item():.3g}")

# %%
print("learned W:\n", model.W.detach().cpu().numpy().round(4))
print("true W:\n", truth.W.cpu().numpy().round(4))
print("learned b:", model.b.detach().cpu().numpy().round(4), " true b:",
      truth.b.cpu().numpy().round(4))

# %% [markdown]
# The loss falls by about a factor of two every 50 epochs and is below $2 \cdot 10^{-5}$ after
# 500; the learned $W$ agrees with the true one to about two decimals and keeps approaching it.
#
# Because `update` is pure, the model we pass in is not changed. That lets us take a step "on
# paper" and compare. `update_` is the in-place twin: it changes the model's tensors, like
# `optimizer.step()`, and saves a copy per step.

# %%
loss = mse_distance(model(inputs), targets)
grads = gradients(loss, model)
W_before = model.W.detach().clone()

_, stepped = update(state, model, grads)
print("update:  input model unchanged:", torch.equal(model.W, W_before),
      "| returned a new model:", stepped is not model)

state, same_model = update_(state, model, grads)
print("update_: input model changed:", not torch.equal(model.W, W_before),
      "| returned the same model:", same_model is model,
      "| same step as update:", torch.equal(model.W, stepped.W))

# %% [markdown]
# ## Section 4: Parameters that do not move
#
# *Time estimate: about 10 minutes.*
#
# An optimizer only sees what is *registered*. If the bias is stored as a plain tensor
# attribute, not an `nn.Parameter`, the model still uses it in `forward`, but
# `named_parameters()` does not list it: `setup` gives it no leaf and it never moves. (The same
# happens with `torch.optim`, which only receives `model.parameters()`.) In the Julia original
# this is what happens when one forgets `@functor`.

# %%
unregistered = Affine(register_bias=False).to(DEVICE)
bias_before = unregistered.b.clone()
state_u, unregistered, log = fit(Descent(0.1), unregistered, inputs, targets, n_epochs=500)
print("leaves:", list(state_u))
print("b moved:", not torch.equal(unregistered.b, bias_before))
print(f"loss after 500 epochs: {log[-1][1]:.3g}")

# %% [markdown]
# With $b$ stuck at its random start, $W$ alone cannot reach the ground truth: the loss stalls
# near $0.03$ instead of going to zero.
#
# Sometimes we *want* a parameter to stay put: a pretrained layer, a bias we fix on purpose,
# an embedding we fine-tune later. `freeze(state, "b")` marks leaves as frozen (a module's name
# freezes everything below it); `update` then skips them but keeps their state, and `thaw`
# brings them back. In `torch.optim` the same is done with `param.requires_grad_(False)` or by
# leaving the parameter out of the optimizer.

# %%
frozen_model = Affine().to(DEVICE)
frozen_state = freeze(setup(Descent(0.1), frozen_model), "b")
print(frozen_state)

b_before = frozen_model.b.clone()
for _ in range(200):
    loss = mse_distance(frozen_model(inputs), targets)
    frozen_state, frozen_model = update_(frozen_state, frozen_model, gradients(loss, frozen_model))
print("after 200 frozen epochs, b moved:", not torch.equal(frozen_model.b, b_before))

frozen_state = thaw(frozen_state, "b")
for _ in range(200):
    loss = mse_distance(frozen_model(inputs), targets)
    frozen_state, frozen_model = update_(frozen_state, frozen_model, gradients(loss, frozen_model))
print("after 200 thawed epochs, b moved:", not torch.equal(frozen_model.b, b_before))

# %% [markdown]
# ### Think! 2: frozen or unregistered?
#
# Both leave $b$ where it is. What is the difference, for the optimizer and for someone who
# saves the model with `model.state_dict()`?
#
# <details>
# <summary>Model answer</summary>
#
# An unregistered tensor is invisible: it has no leaf, no gradient is computed for it, and it is
# not in `model.state_dict()` (unless registered as a buffer), so it is lost when the model is
# saved and reloaded. A frozen parameter is still a parameter: it is saved with the model, its
# gradient can still be computed, and its leaf keeps the rule's state, so `thaw` resumes where
# it stopped. Freezing is a decision about *training*; registering is a decision about what
# the model *is*.
# </details>

# %% [markdown]
# ## Section 5: Writing the rules
#
# *Time estimate: about 50 minutes.*
#
# Each exercise is a rule class whose `__init__` (the hyperparameters, with `torch.optim`'s
# defaults) is given, and whose `init` and `apply` you write. Read the hyperparameters as
# `self.lr`, `self.beta` and so on. Use only tensor operations (`torch.zeros_like`,
# `torch.sqrt`, arithmetic). Your `apply` may build new tensors or update the old state's
# tensors in place; either way it must **return** the new state, in the layout each exercise
# describes (the checks compare it too).
# The test cells compare your rule's trajectory, several steps on a fresh model, with the
# reference and with the matching `torch.optim` optimizer. (Calling `torch.optim` inside your
# rule earns nothing.) Whatever your `apply` does with its state, it must not change `param`
# or `grad` (section 1).
#
# ### Exercise 1: Nesterov momentum
#
# Heavy-ball momentum computes the gradient at $w_t$, then moves by the whole velocity. Nesterov
# momentum corrects it with a look-ahead: it steps as if it had already moved with the *new*
# velocity and adds the gradient once more. In velocity form,
#
# $$
# v_{t+1} = \beta \, v_t + \eta \, g_t, \qquad
# \text{step}_t = \beta \, v_{t+1} + \eta \, g_t, \qquad w_{t+1} = w_t - \text{step}_t .
# $$
#
# **Where the look-ahead is.** The classical form of Nesterov momentum (Sutskever, Martens, Dahl
# and Hinton, 2013; Goodfellow, Bengio and Courville, *Deep Learning*, section 8.3.3) keeps
# parameters $\theta_t$ and evaluates the gradient at a look-ahead point:
#
# $$
# v_{t+1} = \beta \, v_t + \eta \, \nabla \mathcal{L}(\theta_t - \beta \, v_t), \qquad
# \theta_{t+1} = \theta_t - v_{t+1} .
# $$
#
# Change variables to the look-ahead point, $w_t = \theta_t - \beta \, v_t$. Then the gradient
# is the ordinary one at the stored parameters, $g_t = \nabla \mathcal{L}(w_t)$, and
#
# $$
# w_{t+1} = \theta_{t+1} - \beta \, v_{t+1} = w_t - \big((1 + \beta) \, v_{t+1} - \beta \, v_t\big),
# \qquad (1 + \beta) \, v_{t+1} - \beta \, v_t = \beta \, v_{t+1} + \eta \, g_t ,
# $$
#
# which is the step above. So the parameters this rule (and PyTorch) stores are the classical
# method's look-ahead points, and its velocities are the classical ones: the two forms take
# the same steps under different names.
#
# The state is the velocity $v$: a tensor shaped like the parameter, zeros at first. This is
# `torch.optim.SGD(params, lr, momentum=beta, nesterov=True)`, with one difference in what is
# stored: torch's buffer is $b = v/\eta$ ($b_{t+1} = \beta \, b_t + g_t$, step
# $\eta \, (\beta \, b_{t+1} + g_t)$). Store the velocity $v$, not torch's buffer: the check
# compares the state too.

# %% nbgrader={"grade": false, "grade_id": "Nesterov", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Nesterov(Rule):
    """Nesterov momentum. State: the velocity v (shaped like the parameter)."""

    def __init__(self, lr=0.01, beta=0.9):
        super().__init__(lr=lr, beta=beta)

    def init(self, param):
        """Return the velocity before the first step."""
        ### BEGIN SOLUTION
        return torch.zeros_like(param)
        ### END SOLUTION

    def apply(self, state, param, grad):
        """Return (new velocity, step)."""
        ### BEGIN SOLUTION
        velocity = self.beta * state + self.lr * grad
        return velocity, self.beta * velocity + self.lr * grad
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_Nesterov", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from helpers.rules import checks

checks.self_check("Nesterov", Nesterov)
### BEGIN HIDDEN TESTS
checks.hidden_check("Nesterov", Nesterov)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2: Adagrad
#
# Some parameters receive large gradients, others small ones; a single learning rate suits
# neither. Adagrad gives every coordinate its own step size, divided by the root of the *sum*
# of all its squared gradients so far (operations are elementwise):
#
# $$
# s_{t+1} = s_t + g_t^2, \qquad \text{step}_t = \frac{\eta \, g_t}{\sqrt{s_{t+1}} + \epsilon} .
# $$
#
# The state is $s$, zeros at first. Note where $\epsilon$ goes: *after* the square root, as in
# `torch.optim.Adagrad(params, lr, eps=epsilon)`. Where it goes matters only where $\sqrt{s}$ is
# tiny: elsewhere $\sqrt{s} + \epsilon$ and $\sqrt{s + \epsilon}$ are both $\sqrt{s}$ to many
# digits. Inside the root, $\epsilon$ guards $s$ rather than $\sqrt{s}$ and acts like
# $\sqrt{\epsilon}$ outside it, a far larger guard: for a first gradient of $10^{-6}$ and
# $\epsilon = 10^{-10}$, the first step is $0.9999\,\eta$ with $\epsilon$ after the root and about
# $0.1\,\eta$ with it inside. Notebook 03's `rmsprop_update` puts $\epsilon$ inside
# ($\sqrt{v + \epsilon}$, as optax does by default), `torch.optim.RMSprop` after the root; the
# two agree wherever $\sqrt{v}$ is well above $\sqrt{\epsilon}$.
#
# Because $s$ only grows, Adagrad's steps shrink like $1/\sqrt{t}$, good for convex problems and
# sparse features, often too cautious for deep networks.

# %% nbgrader={"grade": false, "grade_id": "Adagrad", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Adagrad(Rule):
    """Adagrad. State: the sum s of squared gradients (shaped like the parameter)."""

    def __init__(self, lr=0.01, epsilon=1e-10):
        super().__init__(lr=lr, epsilon=epsilon)

    def init(self, param):
        """Return the sum of squared gradients before the first step."""
        ### BEGIN SOLUTION
        return torch.zeros_like(param)
        ### END SOLUTION

    def apply(self, state, param, grad):
        """Return (new sum of squared gradients, step)."""
        ### BEGIN SOLUTION
        total = state + grad**2
        return total, self.lr * grad / (torch.sqrt(total) + self.epsilon)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_Adagrad", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from helpers.rules import checks

checks.self_check("Adagrad", Adagrad)
### BEGIN HIDDEN TESTS
checks.hidden_check("Adagrad", Adagrad)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 3: Adam, with bias correction
#
# Adam combines momentum (a running average $m$ of gradients) with RMSprop's per-coordinate
# scaling (a running average $v$ of squared gradients):
#
# $$
# \begin{aligned}
# m_{t+1} &= \beta_1 m_t + (1 - \beta_1) \, g_t, &
# v_{t+1} &= \beta_2 v_t + (1 - \beta_2) \, g_t^2, \\
# \hat m &= \frac{m_{t+1}}{1 - \beta_1^{\,t+1}}, &
# \hat v &= \frac{v_{t+1}}{1 - \beta_2^{\,t+1}}, \qquad
# \text{step}_t = \frac{\eta \, \hat m}{\sqrt{\hat v} + \epsilon} .
# \end{aligned}
# $$
#
# **Why the bias correction.** Both averages start at zero, so early on they are too small:
# if every gradient were the same $g$, then $m_{t} = (1 - \beta_1^{t}) \, g$ after $t$ steps.
# Dividing by $1 - \beta_1^{t}$ removes exactly that factor. How much it matters shows on such a
# constant gradient with the defaults $\beta_1 = 0.9$, $\beta_2 = 0.999$. With both corrections
# every step is exactly $\eta$ (in the direction of $-g$). With neither, the step is
# $\eta \, (1 - \beta_1^t) / \sqrt{1 - \beta_2^t}$: $3.2\,\eta$ at $t = 1$, about $6.6\,\eta$ at its
# peak ($t = 12$), still above $3\,\eta$ at $t = 100$, and within 10% of $\eta$ only after about
# 1,750 steps. Correcting $m$ alone is worse: $v$, with its thousand-step memory, is still far
# too small, and the first step is $\eta / \sqrt{1 - \beta_2} \approx 32\,\eta$. This is the case
# Kingma and Ba warn about: with $\beta_2$ close to 1, an uncorrected $v$ gives very large first
# steps and often divergence.
#
# The state is the tuple `(m, v, t)`: two tensors shaped like the parameter, and the number of
# steps taken so far (0 at first; the first step uses $t = 1$ in the corrections). As in
# `torch.optim.Adam`, $\epsilon$ is added to the square root of the *corrected* $\hat v$; as
# with Adagrad, where $\epsilon$ goes matters only where $\sqrt{\hat v}$ is tiny.

# %% nbgrader={"grade": false, "grade_id": "Adam", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Adam(Rule):
    """Adam with bias correction. State: (m, v, t)."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8):
        super().__init__(lr=lr, beta1=beta1, beta2=beta2, epsilon=epsilon)

    def init(self, param):
        """Return (m, v, t) before the first step."""
        ### BEGIN SOLUTION
        return torch.zeros_like(param), torch.zeros_like(param), 0
        ### END SOLUTION

    def apply(self, state, param, grad):
        """Return ((new m, new v, new t), step)."""
        ### BEGIN SOLUTION
        m, v, t = state
        m = self.beta1 * m + (1 - self.beta1) * grad
        v = self.beta2 * v + (1 - self.beta2) * grad**2
        t = t + 1
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        return (m, v, t), self.lr * m_hat / (torch.sqrt(v_hat) + self.epsilon)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_Adam", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from helpers.rules import checks

checks.self_check("Adam", Adam)
### BEGIN HIDDEN TESTS
checks.hidden_check("Adam", Adam)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4: AdamW, decoupled weight decay
#
# *Weight decay* pulls the parameters towards zero to keep a model simple. With plain gradient
# descent there are two equivalent ways to do it: add an L2 penalty
# $\frac{\lambda}{2}\lVert w \rVert^2$ to the loss (its gradient $\lambda w$ joins $g$), or shrink
# the parameters directly, $w \leftarrow w - \eta \lambda w$. With Adam they are **not**
# equivalent. An L2 penalty enters $g$, so it passes through $m$ and $v$ and is divided by
# $\sqrt{\hat v}$: coordinates with large gradients are barely decayed, coordinates with small
# gradients are decayed hard. That is what `torch.optim.Adam(weight_decay=...)` does, and in
# our protocol it is `Chain(WeightDecay(lam), Adam(lr))`, the chain of rules you write in
# section 6.
#
# AdamW (Loshchilov and Hutter, 2019) *decouples* the decay: the moments see only the loss's
# gradient, and the decay is added to the step. Two conventions scale that decay differently:
#
# - **PyTorch and optax** (`torch.optim.AdamW`, `optax.adamw`) scale it by the learning rate
#   $\eta$, so that each step shrinks $w$ by the factor $1 - \eta\lambda$:
#
#   $$
#   \text{step}_t = \eta \left( \frac{\hat m}{\sqrt{\hat v} + \epsilon} + \lambda \, w_t \right);
#   $$
#
# - **the paper** (its Algorithm 2) scales it by the schedule multiplier $s_t$ only, not by the
#   base learning rate $\alpha$:
#   $\text{step}_t = s_t \big( \alpha \, \hat m / (\sqrt{\hat v} + \epsilon) + \lambda \, w_t \big)$.
#   The decay per step then does not depend on $\alpha$, which is the paper's point: $\lambda$
#   and $\alpha$ can be tuned separately.
#
# With a schedule $\eta_t = \alpha \, s_t$, the two take the same steps when
# $\lambda_{\text{PyTorch}} = \lambda_{\text{paper}} / \alpha$: both decays follow the schedule,
# but the same `weight_decay` number means a decay $\alpha$ times weaker in PyTorch's convention
# (1,000 times weaker at Adam's default $\alpha = 10^{-3}$).
#
# Write `AdamW`: Adam as in exercise 3 (same state `(m, v, t)`) plus the decoupled decay **in
# PyTorch's convention**, the first formula, as in
# `torch.optim.AdamW(params, lr, betas, eps, weight_decay)`. The exercise grades this one for
# two reasons: the check compares your rule with `torch.optim.AdamW`, the optimizer you will
# use; and in this notebook's protocol a schedule reaches a rule only through its `lr`
# (`adjust(state, lr=...)`, section 6), so scaling the decay by `lr` is what makes it follow
# the schedule, as the paper's $s_t$ does, without a second knob. Do not add $\lambda w$ to the
# gradient.

# %% nbgrader={"grade": false, "grade_id": "AdamW", "locked": false, "schema_version": 3, "solution": true, "task": false}
class AdamW(Rule):
    """Adam with decoupled weight decay. State: (m, v, t)."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8, weight_decay=1e-2):
        super().__init__(
            lr=lr, beta1=beta1, beta2=beta2, epsilon=epsilon, weight_decay=weight_decay
        )

    def init(self, param):
        """Return (m, v, t) before the first step."""
        ### BEGIN SOLUTION
        return torch.zeros_like(param), torch.zeros_like(param), 0
        ### END SOLUTION

    def apply(self, state, param, grad):
        """Return ((new m, new v, new t), step)."""
        ### BEGIN SOLUTION
        m, v, t = state
        m = self.beta1 * m + (1 - self.beta1) * grad
        v = self.beta2 * v + (1 - self.beta2) * grad**2
        t = t + 1
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        adam_direction = m_hat / (torch.sqrt(v_hat) + self.epsilon)
        return (m, v, t), self.lr * (adam_direction + self.weight_decay * param)
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_AdamW", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from helpers.rules import checks

checks.self_check("AdamW", AdamW)
### BEGIN HIDDEN TESTS
checks.hidden_check("AdamW", AdamW)
### END HIDDEN TESTS

# %% [markdown]
# ### L2 penalty versus decoupled decay
#
# To see the difference, take three coordinates with very different curvatures,
# $\mathcal{L}(w) = \frac12 \sum_i c_i (w_i - 1)^2$ with $c = (100, 1, 0.01)$, start at the
# minimum $w = (1, 1, 1)$, and run 500 steps of Adam ($\eta = 0.02$) with a large decay
# $\lambda = 2$, either as an L2 penalty or decoupled (AdamW). The last bar of each group
# shows where the L2-penalized loss has its minimum, $w_i = c_i / (c_i + \lambda)$.

# %%
decay = demos.weight_decay_comparison(namespace=globals())
show(demos.plot_weight_decay(decay, curvatures=(100.0, 1.0, 0.01)))
for name, values in decay.items():
    print(f"{name:30s}", values.round(3))

# %% [markdown]
# Adam with an L2 penalty lands on the penalized minimum: the flat coordinate ($c = 0.01$) is
# driven almost to zero, the steep one ($c = 100$) hardly moves. AdamW treats all three alike:
# each settles near the same value, about $0.54$ here. Its fixed point solves
# $\hat m / \sqrt{\hat v} = -\lambda w$, and with a steady gradient the left side is about
# $\pm 1$ whatever the gradient's size, so every coordinate heads for $w = 1/\lambda = 0.5$.
#
# ### Think! 3: which decay do you want?
#
# In a deep network, which parameters have small gradients, and what does an L2 penalty in
# Adam do to them? Why might that explain why AdamW often generalizes better?
#
# <details>
# <summary>Model answer</summary>
#
# Rarely active features, weights feeding dead or saturated units, and directions in which
# the loss is flat get small gradients. With an L2 penalty in Adam, the penalty's gradient is
# divided by the small $\sqrt{\hat v}$ of those coordinates, so they are decayed hard, while the
# weights with large gradients, often the ones that grow too big, escape regularization. The
# strength of the decay then depends on the gradient history rather than on the weights
# alone. AdamW restores what weight decay means for SGD: the same relative shrinkage for every
# weight, independent of Adam's rescaling, which makes the decay and the learning rate easier to
# tune separately and tends to generalize better.
# </details>

# %% [markdown]
# ## Section 6: Learning-rate schedules, `adjust` and `Chain`
#
# *Time estimate: about 40 minutes.*
#
# A constant learning rate is a compromise: large steps help early, small ones help settle at
# the end. A **schedule** is simply a function of the step count $t$ (0 at the first step),
# $t \mapsto \eta_t$; `helpers.rules.schedules` has three (imported in the setup cell):
#
# - *constant*: `constant(lr)`, the same $\eta$ at every step;
# - *step decay*: `step_decay(lr, gamma, every)`, $\eta_t = \eta_0 \, \gamma^{\lfloor t / k
#   \rfloor}$ (multiply by $\gamma$ every $k$ steps);
# - *cosine decay*: `cosine_decay(lr, steps, lr_min=0.0)`,
#   $\eta_t = \eta_{\min} + (\eta_0 - \eta_{\min}) \frac{1 + \cos(\pi t / T)}{2}$, from $\eta_0$
#   at $t = 0$ to $\eta_{\min}$ at $t = T$, and $\eta_{\min}$ after.
#
# Each returns the schedule itself, a plain function: `cosine_decay(0.1, 200)(50)` is the rate
# of step 50. The fourth kind in the figure, *warm-up*, is yours to write.

# %%
show(demos.plot_schedules(steps=200, lr=0.1))
examples = {
    "constant": constant(0.1),
    "step decay": step_decay(0.1, gamma=0.5, every=50),
    "cosine decay": cosine_decay(0.1, steps=200),
}
for name, schedule in examples.items():
    print(f"{name:>12}: rate at t = 0, 50, 100, 150, 199:",
          [round(schedule(t), 4) for t in (0, 50, 100, 150, 199)])

# %% [markdown]
# ### Exercise 5: a warm-up schedule
#
# A *warm-up* is a linear ramp over the first steps, then another schedule. Why start small?
# Adam's $\hat v$ is poorly estimated at first, and large early steps from a random start can
# land far off; small first steps are cheap insurance.
#
# Write `warmup(after, steps, start_factor=0.1)`. It returns a schedule, a function of $t$:
# with $T$ = `steps` and $s$ = `start_factor`,
#
# $$
# \eta_t = \begin{cases}
# \text{after}(0) \left( s + (1 - s) \, \dfrac{t}{T} \right) & t < T, \\[1ex]
# \text{after}(t - T) & t \ge T,
# \end{cases}
# $$
#
# a ramp from $s \cdot \text{after}(0)$ at $t = 0$ that would reach $\text{after}(0)$ at
# $t = T$, where `after` takes over *from its own step 0*: `after` starts when the ramp ends.
# This is `torch.optim.lr_scheduler.LinearLR(start_factor=s, total_iters=T)` followed by the
# other scheduler, as `SequentialLR` chains them. The rate must depend on $t$ alone: a
# training loop may ask for any step, in any order, any number of times. (The course's own
# `warmup` in `helpers.rules.schedules`, which the figure above used, earns no points here.)

# %% nbgrader={"grade": false, "grade_id": "warmup", "locked": false, "schema_version": 3, "solution": true, "task": false}
def warmup(after, steps, start_factor=0.1):
    """A linear warm-up over `steps` steps from `start_factor * after(0)`, then `after`.

    Args:
        after: the schedule to hand over to, a function t -> learning rate.
        steps: the length of the ramp (at least 1).
        start_factor: the fraction of after(0) at t = 0.

    Returns:
        The schedule, a function t -> learning rate (t = 0 at the first step).
    """
    ### BEGIN SOLUTION
    def schedule(t):
        if t < steps:
            return after(0) * (start_factor + (1 - start_factor) * t / steps)
        return after(t - steps)

    return schedule
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_warmup", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from helpers.rules import checks

checks.self_check("warmup", warmup)
### BEGIN HIDDEN TESTS
checks.hidden_check("warmup", warmup)
### END HIDDEN TESTS

# %% [markdown]
# ### `adjust`, and rules that compose
#
# The rules hold no schedule; the training loop asks the schedule for $\eta_t$ and tells the
# rules with `adjust(state, lr=...)`, which returns a state with new hyperparameters and the
# *same* accumulated moments (in `torch.optim`: `group["lr"] = ...` for each
# `optimizer.param_groups`, or an `lr_scheduler`). `adjust` asks each leaf's rule which names
# it has (`rule.hyperparameters()`) and calls `rule.adjust(lr=...)`, which returns a copy of
# the rule with the new value (a rule without an `lr` ignores it).
#
# Rules also **compose**. `Chain(WeightDecay(1e-4), ClipNorm(1.0), adam)` adds an L2 term to
# the gradient, clips the result to norm at most 1 per tensor, and feeds it to Adam, whose
# output is the step. Each link is a rule whose output is the next one's input; every link
# sees the same `param`; and the chain's state is the tuple of the links' states. This is
# optax's `optax.chain` and Optimisers.jl's `OptimiserChain`.
#
# ### Exercise 6: `Chain`
#
# Write the four methods of `Chain`, a rule made of rules (`self.rules`, a tuple, in order):
#
# - `init(param)`: the tuple of every rule's initial state;
# - `apply(state, param, grad)`: feed `grad` to the first rule, its output to the second, and
#   so on, each with its own state and the same `param`; return the tuple of the new states
#   and the last rule's output, the step;
# - `hyperparameters()`: the names `adjust` can change, those of all the rules together (a
#   set);
# - `adjust(**hyperparameters)`: a new `Chain` of the adjusted rules, so that
#   `adjust(state, lr=...)` reaches the rates inside the chain (a chain may contain a chain).
#
# The test trains with several chains, one nested in another, under a schedule that lowers the
# rate through `adjust` at every step, and compares every link's state and every parameter
# with the reference's. (The course's own `Chain` and `chain` in `helpers.rules.protocol` earn
# no points here.)

# %% nbgrader={"grade": false, "grade_id": "Chain", "locked": false, "schema_version": 3, "solution": true, "task": false}
class Chain(Rule):
    """Rules applied in turn, each to the previous one's output. State: a tuple with one
    state per rule, in order."""

    def __init__(self, *rules):
        super().__init__(rules=rules)

    def init(self, param):
        """Return the tuple of the rules' states before the first step."""
        ### BEGIN SOLUTION
        return tuple(rule.init(param) for rule in self.rules)
        ### END SOLUTION

    def apply(self, state, param, grad):
        """Return (tuple of the rules' new states, step)."""
        ### BEGIN SOLUTION
        new_states = []
        for rule, rule_state in zip(self.rules, state):
            rule_state, grad = rule.apply(rule_state, param, grad)
            new_states.append(rule_state)
        return tuple(new_states), grad
        ### END SOLUTION

    def hyperparameters(self):
        """Return the set of hyperparameter names of all the rules."""
        ### BEGIN SOLUTION
        return set().union(*(rule.hyperparameters() for rule in self.rules))
        ### END SOLUTION

    def adjust(self, **hyperparameters):
        """Return a new Chain whose rules are adjusted (each ignores names it lacks)."""
        ### BEGIN SOLUTION
        return Chain(*(rule.adjust(**hyperparameters) for rule in self.rules))
        ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_Chain", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from helpers.rules import checks

checks.self_check("Chain", Chain)
### BEGIN HIDDEN TESTS
checks.hidden_check("Chain", Chain)
### END HIDDEN TESTS

# %% [markdown]
# Both together, with your Adam: 500 steps of a chain of weight decay, clipping and Adam under
# a warm-up of 50 steps followed by a cosine decay. `warm_up`, `chained` and `adam` are your
# `warmup`, `Chain` and `Adam` (or the references, while yours are not done).

# %%
adam = EXERCISES.implementation("Adam", globals())
warm_up = EXERCISES.implementation("warmup", globals())
chained = EXERCISES.implementation("Chain", globals())
schedule = warm_up(cosine_decay(0.1, steps=450), steps=50)

model = Affine().to(DEVICE)
state = setup(chained(WeightDecay(1e-4), ClipNorm(1.0), adam(lr=schedule(0))), model)
for t in range(500):
    state = adjust(state, lr=schedule(t))
    loss = mse_distance(model(inputs), targets)
    state, model = update_(state, model, gradients(loss, model))

print(state)
weight_decay_state, clip_state, (m, v, steps_taken) = state["W"].state
print(f"Adam has taken {steps_taken} steps on W; its rate is now {state['W'].rule.rules[2].lr:.2g}")
with torch.no_grad():
    print(f"final loss: {mse_distance(model(inputs), targets).item():.3g}")

# %% [markdown]
# ### Think! 4: why keep the moments?
#
# When the schedule lowers the learning rate, `adjust` keeps Adam's $m$, $v$ and $t$. What
# would go wrong if we built a fresh `Adam(lr=...)` state at every change instead?
#
# <details>
# <summary>Model answer</summary>
#
# A fresh state restarts $t$ at 0 and the moments at zero: the running averages forget the
# gradient history, and the bias correction starts over, so the next few steps behave like
# Adam's first steps (a step of size about $\eta$ in every coordinate, whatever the gradient),
# which is exactly the jolt a decaying schedule is meant to avoid. The hyperparameters and the
# state are different things; `adjust` changes one and keeps the other.
# </details>

# %% [markdown]
# ## Section 7: Interactive demo: rules on 2-D test functions
#
# *Time estimate: about 15 minutes.*
#
# Two classic test functions make the differences visible:
#
# - the **ill-conditioned quadratic** $f(x, y) = \frac12 (x^2 + 50 y^2)$, whose curvatures differ
#   50-fold: gradient descent converges only for $\eta < 2/50 = 0.04$ and is then slow along $x$;
# - the **Rosenbrock function** $f(x, y) = (1 - x)^2 + 100 (y - x^2)^2$, a narrow curved valley
#   with its minimum at $(1, 1)$: easy to enter, slow to follow.
#
# Each rule starts from the same point; its parameter is the point itself. Below: 300 steps
# on Rosenbrock with $\eta = 10^{-3}$ for the momentum family and $\eta = 0.1$ for RMSProp and
# Adam (Adagrad starts 10 times higher, since its steps shrink over time).

# %%
exercise_rules = demos.exercise_rules(globals())
rosenbrock_rules = demos.default_rules(exercise_rules, lr_plain=1e-3, lr_adaptive=0.1, beta=0.9)
rosenbrock = demos.compare_rules("Rosenbrock", rosenbrock_rules, steps=300)
show(demos.plot_paths("Rosenbrock", rosenbrock))
for name, (_, losses) in rosenbrock.items():
    print(f"{name:9s} final loss {losses[-1]:.2g}")

# %% [markdown]
# Gradient descent barely moves along the valley floor. The momentum methods follow it:
# Nesterov gets closest to the minimum in 300 steps, then Momentum. Among the adaptive rules
# Adam does best; RMSProp and Adagrad, without momentum, take steps of similar size in both
# coordinates and make slow progress along the curved valley.
#
# Now it is your turn. Press **Run** after changing the controls. Some things to try:
#
# The momentum $\beta$ slider sets the $\beta$ of Momentum and Nesterov and also Adam's $\beta_1$.
#
# 1. On the quadratic, raise the momentum family's learning rate until Descent diverges. The
#    theory says it happens above $2/50 = 0.04$: on the slider, $0.0398$ still converges and
#    $0.0501$ does not. Which diverges first, Descent, Momentum or Nesterov?
# 2. On the quadratic, compare Descent and Momentum at $\eta = 0.01$: how much lower is
#    Momentum's loss after 300 steps? Why are the adaptive rules hardly bothered by the
#    conditioning?
# 3. On Rosenbrock, with the momentum family's learning rate at $10^{-3}$ (at the slider's
#    default, $0.01$, the whole momentum family diverges there), set the momentum $\beta$ to 0
#    (Momentum becomes Descent) and then to 0.99.
# 4. Switch the schedule to cosine or warm-up + cosine. Which rules gain, which lose?
#
# <details>
# <summary>What you should see</summary>
#
# 1. Nesterov goes first, Descent next, Momentum last. On a quadratic with curvature $\lambda$
#    (here the steep direction's, $\lambda = 50$), each rule converges exactly when $\eta$ is
#    below its stability bound:
#    Descent $\eta < 2/\lambda = 0.04$; Momentum $\eta < 2(1 + \beta)/\lambda = 0.076$; Nesterov
#    $\eta < 2(1 + \beta)/\big((1 + 2\beta)\lambda\big) \approx 0.0271$ (with $\beta = 0.9$). On the
#    slider, Nesterov still converges at $0.0251$ and diverges at $0.0316$; Descent converges at
#    $0.0398$ and diverges at $0.0501$; Momentum converges at $0.0631$ and diverges at
#    $0.0794$. Nesterov's step $\beta^2 v_t + (1 + \beta)\,\eta\,g_t$ weighs the current gradient
#    by $1 + \beta$, which makes the steep direction less stable. (The bounds come from each
#    rule's linear recurrence on $(w, v)$: its eigenvalues $z$ solve
#    $z^2 - (1 + \beta - \eta\lambda)\,z + \beta = 0$ for Momentum and
#    $z^2 - (1 + \beta)(1 - \eta\lambda)\,z + \beta\,(1 - \eta\lambda) = 0$ for Nesterov, and one of
#    them crosses $z = -1$ at the bound.)
# 2. Momentum's loss is more than a million times lower than Descent's ($10^{-13}$ against
#    $2 \cdot 10^{-2}$). The adaptive rules divide each coordinate by its own gradient scale, so
#    the 50-fold difference in curvature hardly matters to them (Think! 5).
# 3. With $\beta = 0$ Momentum is Descent and stalls near a loss of 5; $\beta = 0.9$ follows the
#    valley (about 0.03); $\beta = 0.99$ overshoots and oscillates along it (about 0.2), and
#    Nesterov diverges. Adam's $\beta_1$ follows the slider too: Adam ends near 0.25 at
#    $\beta = 0.9$ and near 1.4 at $0.99$.
# 4. At the default rates every rule ends higher with a decaying schedule: in 300 steps the
#    schedule mostly shrinks steps that were still making progress. These functions give
#    exact gradients, which vanish at the minimum, so a rate that converges needs no decay.
#    Schedules pay off when a constant rate cannot settle, as with noisy minibatch gradients:
#    section 8. Warm-up shows its use at a rate that is too large: on Rosenbrock with
#    $\eta = 0.01$ for the momentum family, Descent diverges with a constant rate but survives
#    with warm-up + cosine.
# </details>

# %%
demos.rules_widget(globals())

# %% [markdown]
# ### Think! 5: adaptive rules and curvature
#
# On the quadratic, RMSProp and Adam reach tiny losses although their learning rate is 0.1,
# well above $2/50$. Why do they not diverge, and why do their paths set off along a diagonal
# although the gradient points almost straight along the steep $y$ direction?
#
# <details>
# <summary>Model answer</summary>
#
# They divide each coordinate's gradient by a running root-mean-square of that coordinate's
# gradients, so the step in each coordinate has about the same size, $\eta$, whatever the
# curvature: the 50-fold difference between $x$ and $y$ is divided out. The first steps are
# sign-like, equal in both coordinates, hence diagonal until $y$ is nearly solved; then the path
# runs along $x$ (Adam, with its momentum, overshoots and oscillates around the axis).
# Stability no longer requires $\eta < 2/\lambda_{\max}$: a step is about $\eta$ long whatever
# the curvature, so what matters is $\eta$ compared with the distance still to go. The price is
# that the steps ignore the true curvature, which can mislead them in curved valleys like
# Rosenbrock's.
# </details>

# %% [markdown]
# ## Section 8: When schedules pay off: noisy minibatches
#
# *Time estimate: about 15 minutes.*
#
# In section 7 every decaying schedule ended *worse*: those functions give the exact gradient,
# which vanishes at the minimum, so a rate that converges at all converges without help. Deep
# learning trains on **minibatches**, and a minibatch gradient is a noisy estimate of the
# whole data set's: at the minimum its average is zero, but each one is not. A constant rate
# then keeps the parameters bouncing around the minimum at a distance that grows with the
# rate. A small rate bounces less, but takes long to arrive. A decaying schedule gets both:
# large steps while far away, small ones to settle. (This is the picture of the schedule
# chapters of *Dive into Deep Learning*, section 12.11, and of the fast.ai course.)
#
# To see it, we fit our `Affine` model to 1,000 examples of `affine_data` whose targets carry
# Gaussian label noise (standard deviation 0.5), with minibatches of 8 drawn at random, 1,000
# steps of your `Adam` at a base rate $\eta = 0.05$, under five schedules: constant, constant at
# $\eta/10$, step decay, cosine decay, and your warm-up followed by cosine (the factors of
# section 7's demo). Every run starts from the same point and sees the same minibatches. What
# we measure is the loss on the whole data set *minus* the lowest loss any affine map reaches
# there (the least-squares fit, about 0.49: the noise itself, which no model can fit): the
# *excess loss*, zero at the best possible fit.

# %%
race = demos.schedule_race(adam(lr=0.05), warm_up=warm_up)
show(demos.plot_schedule_race(race, "Adam, base lr 0.05, batch 8, label noise 0.5"))
for name in demos.RACE_SCHEDULES:
    print(f"{name:17s} excess loss after 100 steps {race.excess[name][9]:.2g}, "
          f"over the last 100 steps {race.final(name):.2g}")
print(demos.race_sentence(race))

# %% [markdown]
# The constant rate is quick to arrive (an excess of 0.0087 after 100 steps) and then stays
# where the noise holds it, jittering around an average of 0.019 over the last 100 steps. At a
# tenth of the rate the jitter is smaller, 0.0025 at the end, but the start is slow: 0.054
# after 100 steps, six times the constant rate's. Step decay and cosine start like the
# constant rate, and all three decaying schedules end below both constant ones: step decay at
# 0.0013, cosine at 0.00098, warm-up + cosine at 0.00096, 20 times below the constant rate.
# The warm-up costs little here, and buys nothing either: a linear model has no fragile start.
# Its use is a rate too large for the first steps, as on Rosenbrock in section 7.
#
# Now your turn; press **Run** after changing the controls. The rule menu offers your `Adam`
# and the given `Momentum` ($\beta = 0.9$); the base rate multiplies every schedule.
#
# 1. Set the label noise to 0. Which schedules reach the minimum, and why does the constant
#    rate need no help now?
# 2. Back at noise 0.5, raise the batch size from 8 to 64. What happens to the constant rate's
#    level, and do the schedules still help?
# 3. Choose `Momentum` with a base rate of 1. Does a warm-up save it?
#
# <details>
# <summary>What you should see</summary>
#
# 1. The data are then exactly affine, so at the minimum every minibatch gradient is zero,
#    not only their average: the constant rate, step decay and cosine all reach the minimum
#    to within rounding errors (an excess below $10^{-12}$). There is no noise left for a
#    schedule to average out; the rate divided by 10 is merely slower (still $4 \cdot 10^{-5}$
#    away after 1,000 steps).
# 2. A batch of 64 averages 8 times as many examples, so each gradient is less noisy: the
#    constant rate's level drops from 0.019 to 0.0052. The schedules help even more: cosine
#    ends at 0.00014, 37 times lower. A larger batch buys precision with computation; a
#    schedule buys it for free.
# 3. No. With minibatches of 8, constant, step and cosine diverge within 80 steps, warm-up +
#    cosine at step 190, and only the constant rate divided by 10 survives. A rate of 1 is just
#    below momentum's stability limit for the whole data set's loss,
#    $2(1 + \beta)/\lambda_{\max} \approx 1.06$ (section 7), but a minibatch of 8 examples has
#    a noisier curvature of its own, and the warm-up only delays the moment its peak rate meets
#    it. With minibatches of 32 or more, no run diverges.
# </details>

# %%
demos.schedules_widget(globals())

# %% [markdown]
# ## Section 9: Summary, and when to use `torch.optim`
#
# *Time estimate: about 5 minutes.*
#
# - An optimizer is a **rule** (hyperparameters, `init`, `apply`) plus a **state** that mirrors
#   the model. Keeping them apart makes a training step a function,
#   `state, model = update(state, model, grads)`, and makes the state something you can print,
#   copy, adjust and freeze.
# - Only registered, trainable parameters get a leaf: a tensor that is not an `nn.Parameter`
#   never moves. `freeze`/`thaw` stop and restart parts of the tree on purpose.
# - Nesterov looks ahead along the new velocity; Adagrad divides by the root of all past squared
#   gradients; Adam uses bias-corrected running averages of gradients and squared gradients;
#   AdamW adds weight decay to the step instead of the gradient, so it is not rescaled.
# - Schedules are functions of the step count, passed to the rules with `adjust`. They pay off
#   where a constant rate cannot settle, as with noisy minibatch gradients; with exact
#   gradients that vanish at the minimum they only slow a converging rule down.
# - `Chain` composes rules such as weight decay, clipping and Adam, and `adjust` reaches the
#   rates inside it.
#
# **What else exists.** A few more rules and tools you will meet, each with what it changes:
#
# - *Adadelta* (Zeiler, 2012; `torch.optim.Adadelta`): scales each coordinate's gradient by
#   the ratio of two running root-mean-squares, of past *updates* over past gradients, so that
#   a step has the units of the parameter and the paper's rule needs no learning rate.
# - *AMSGrad* (Reddi, Kale and Kumar, 2018; `Adam(amsgrad=True)`): divides by the root of the
#   running *maximum* of $v$, so a coordinate's effective rate can only shrink; this repairs
#   problems on which Adam provably fails to converge.
# - *Yogi* (Zaheer et al., 2018; `optax.yogi`): moves $v$ by $(1 - \beta_2)\, g^2$ at most,
#   $v \leftarrow v - (1 - \beta_2)\,\mathrm{sign}(v - g^2)\, g^2$, instead of Adam's
#   $(1 - \beta_2)(g^2 - v)$, so that when gradients turn small the effective rate grows slowly
#   rather than at once.
# - *RAdam* (Liu et al., 2020; `torch.optim.RAdam`): while $\hat v$ rests on too few steps to
#   be trusted, takes momentum steps without the division, and switches the adaptive scaling
#   in gradually after: a warm-up built into the rule.
# - *Lion* (Chen et al., 2023; `optax.lion`): steps by the *sign* of a blend of momentum and
#   gradient, so every coordinate moves by exactly $\pm\eta$ (plus decoupled weight decay),
#   and keeps one state tensor where Adam keeps two.
# - The *learning-rate finder* (Smith, 2017; fastai's `lr_find`): one short run that raises
#   $\eta$ exponentially from step to step while recording the loss; choose a rate somewhat
#   below the one where the loss falls fastest, well before it blows up.
# - *One-cycle* (Smith and Topin, 2019; `torch.optim.lr_scheduler.OneCycleLR`): a schedule
#   that warms up to a large peak rate once and then anneals to far below the starting rate,
#   with momentum moved the opposite way.
#
# **In practice, prefer `torch.optim`.** Its optimizers are tested on every platform, run
# fused multi-tensor kernels on the GPU (`foreach=True`, `fused=True`), work with mixed
# precision (`GradScaler`), distributed training and checkpoints (`state_dict`), and every
# library expects them. The rules are worth having when you want to *understand* or *invent* an
# optimizer, inspect or manipulate its state, or write training code as pure functions (for
# example with `torch.func`). This table maps one onto the other:
#
# | `torch.optim` | rules of this notebook |
# | --- | --- |
# | `SGD(lr)` | `Descent(lr)` |
# | `SGD(lr, momentum=beta)` | `Momentum(lr, beta)` (velocity form; same for a constant `lr`) |
# | `SGD(lr, momentum=beta, nesterov=True)` | `Nesterov(lr, beta)` |
# | `SGD(lr, momentum=beta, dampening=d)` | `Momentum(lr * (1 - d), beta)` after a transient |
# | `SGD(lr, weight_decay=wd)` | `Chain(WeightDecay(wd), Descent(lr))` |
# | `Adagrad(lr, eps=eps)` | `Adagrad(lr, epsilon=eps)` |
# | `RMSprop(lr, alpha, eps)` | `RMSProp(lr, alpha, epsilon)` (notebook 03: `epsilon_inside=True`) |
# | `Adam(lr, betas=(b1, b2), eps)` | `Adam(lr, b1, b2, eps)` |
# | `Adam(..., weight_decay=wd)` | `Chain(WeightDecay(wd), Adam(...))`, an L2 penalty |
# | `AdamW(..., weight_decay=wd)` | `AdamW(...)`, or `Chain(Adam(...), WeightDecay(lr * wd))` |
# | `nn.utils.clip_grad_norm_(params, c)` | `ClipNorm(c)`, but per tensor, not all together |
# | `StepLR`, `CosineAnnealingLR`, `LinearLR` | `step_decay`, `cosine_decay`, `warmup` + `adjust` |
# | `SequentialLR([LinearLR(...), other], milestones=[k])` | `warmup(other, steps=k)` |
# | `group["lr"] = x` for each `optimizer.param_groups` | `state = adjust(state, lr=x)` |
# | `param.requires_grad_(False)`, or leave it out | `state = freeze(state, name)` |
# | `optimizer.state[param]` | `state[name].state` |
#
# **Further reading.** The optax documentation (gradient transformations and `optax.chain`);
# the chapter on learning-rate scheduling of A. Zhang, Z. Lipton, M. Li and A. Smola, *Dive into
# Deep Learning* (Cambridge University Press, 2023);
# the Optimisers.jl documentation (`setup`, `update`, `adjust`, `freeze!`); I. Loshchilov and
# F. Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019); D. P. Kingma and J. Ba,
# "Adam: A Method for Stochastic Optimization" (ICLR 2015); I. Sutskever, J. Martens, G. Dahl
# and G. Hinton, "On the importance of initialization and momentum in deep learning" (ICML
# 2013), for Nesterov momentum; I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning*
# (MIT Press, 2016), section 8.3; the PyTorch documentation of `torch.optim`, whose pages give
# each algorithm as pseudocode.
