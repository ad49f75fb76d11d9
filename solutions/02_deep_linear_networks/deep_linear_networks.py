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
# # Learning dynamics of deep linear networks
#
# A network without nonlinearities can only ever compute a linear map, so why study it? Because
# *how* it learns that map is anything but simple. Trained from a small initialization, a deep
# linear network sits on a plateau, then suddenly learns one piece of structure, plateaus again,
# learns the next piece, and so on. Which piece comes first, and when, can be predicted exactly
# with the singular value decomposition. The same analysis explains how internal representations
# form, coarse distinctions first and fine ones later, and why a network stopped early may hold
# beliefs that the data never taught it.
#
# **Learning objectives.** After this notebook you can
#
# - build and train a deep linear network in PyTorch and explain why its loss falls in steps;
# - compute the singular value decomposition of a network's total map and relate its modes to
#   the structure of the data;
# - predict the learning trajectory of each mode with the closed-form solution of Saxe,
#   McClelland and Ganguli (2014), compute when each mode is half learned, and say when that
#   prediction holds;
# - measure representations with representational similarity analysis (RSA);
# - recognise illusory correlations that appear during training;
# - solve linear regression analytically and compare it with trained networks.
#
# **Time:** about 90 minutes (bonus section: 20 more).
#
# **Contents.** 0 Prelude: the network and its initialization · 1 Deep linear networks on
# hierarchical data · 2 Singular value decomposition and learning dynamics · 3 Representational
# similarity analysis · 4 Illusory correlations · 5 Summary · 6 Bonus: linear regression
#
# Exercises are marked **Exercise**; each is graded automatically. Demos that use your code fall
# back to a reference implementation, with a one-line notice, until you have written it.
#
# **What a solution cell may use.** A solution cell may use the notebook's setup imports, its
# own imports, functions and classes and plain constants (numbers, strings, tuples of them)
# defined in the same cell, and the functions and classes you wrote in earlier exercises'
# solution cells; anything else (a variable from a demo cell, a helper in a cell you added) is
# invisible to the grader, and the self-check tells you so.

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
import math

import numpy as np
import torch
from torch import nn  # noqa: F401 (for nn.init in Exercise 0)

from helpers.data import hierarchical_data
from helpers.deep_linear import demos
from helpers.deep_linear.checks import EXERCISES
from helpers.deep_linear.network import LinearNet, train
from helpers.device import set_device, set_seed
from helpers.widgets import show

SEED = 2021
set_seed(SEED)
DEVICE = set_device()
# %matplotlib inline

# %% [markdown]
# ## 0. Prelude: a linear network and its initialization
#
# *Time: about 10 minutes.*
#
# Our network has one hidden layer and **no biases and no nonlinearity**. An input $\mathbf{x}$
# becomes a hidden activity $\mathbf{h} = W_1 \mathbf{x}$ and an output
# $\hat{\mathbf{y}} = W_2 \mathbf{h}$. `LinearNet` in `helpers.deep_linear.network` builds it
# from `nn.Linear(..., bias=False)` layers. Its `forward` returns both the output *and* the
# hidden activity, because in Section 3 we will look inside the network.

# %%
demo_net = LinearNet(in_dim=8, hidden_dims=30, out_dim=10_000).to(DEVICE)
output, hidden = demo_net(torch.eye(8, device=DEVICE))
print(demo_net)
print(f"output {tuple(output.shape)}, hidden activity {tuple(hidden.shape)}")
print("weight shapes:", [tuple(w.shape) for w in demo_net.parameters()])


# %% [markdown]
# We train with **full-batch gradient descent** on the mean squared error over all $P$ samples
# and $N_\text{out}$ outputs,
#
# $$
# \mathcal{L} = \frac{1}{P\,N_\text{out}} \sum_{\mu=1}^{P} \big\lVert \mathbf{y}_\mu - W_2 W_1 \mathbf{x}_\mu \big\rVert^2 ,
# \qquad
# W_i \leftarrow W_i - \eta\, \frac{\partial \mathcal{L}}{\partial W_i} .
# $$
#
# The training loop `helpers.deep_linear.network.train` records, at every epoch, the loss, the
# singular values of the network's total map (Section 2), the similarity matrix of the hidden
# layer (Section 3) and the prediction for one item and feature (Section 4). Row $t$ of each
# recording describes the network after $t$ updates.
#
# ### Initialization
#
# How we start matters a great deal here. We draw every weight independently from
#
# $$
# W_{ij} \sim \mathcal{N}\!\left(0, \sigma^2\right), \qquad \sigma = \frac{\gamma}{\sqrt{n_\text{in} + n_\text{out}}},
# $$
#
# where $n_\text{in}$ and $n_\text{out}$ are the layer's input and output sizes and $\gamma$ is
# an *initialization scale*. With $\gamma = \sqrt{2}$ this is Glorot (Xavier) initialization;
# we will mostly use a tiny $\gamma$ such as $10^{-12}$.
#
# ### Exercise 0: `ex_initializer_(model, gamma)`
#
# Redraw every weight of `model` **in place** from the distribution above. The trailing
# underscore is PyTorch's convention for in-place functions: the model keeps its parameter
# objects (an optimizer may already hold them), only their values change. Our layers have no
# biases, so `model.parameters()` yields only weight matrices, each of shape
# $(n_\text{out}, n_\text{in})$. You may use `nn.init.normal_`; do not use
# `nn.init.xavier_normal_` or the reference in `helpers`.

# %% nbgrader={"grade": false, "grade_id": "ex_initializer_", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ex_initializer_(model, gamma=1e-12):
    """Redraw the weights of `model` in place from N(0, sigma^2), sigma = gamma/sqrt(n_in + n_out).

    Args:
        model: an nn.Module whose parameters are weight matrices of shape (n_out, n_in).
        gamma: the initialization scale.
    """
    ### BEGIN SOLUTION
    for weight in model.parameters():
        n_out, n_in = weight.shape
        sigma = gamma / math.sqrt(n_in + n_out)
        nn.init.normal_(weight, mean=0.0, std=sigma)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ex_initializer_", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from helpers.deep_linear import checks

checks.self_check("ex_initializer_", ex_initializer_)
### BEGIN HIDDEN TESTS
checks.hidden_check("ex_initializer_", ex_initializer_)
### END HIDDEN TESTS

# %% [markdown]
# The demos below use your initializer once it works (and the reference until then).

# %%
initialize = EXERCISES.implementation("ex_initializer_", globals())
initialize(demo_net, 1.0)
for weight in demo_net.parameters():
    n_out, n_in = weight.shape
    print(f"layer ({n_out:>5}, {n_in:>2}): std {weight.std().item():.5f}, "
          f"1/sqrt(n_in + n_out) = {1 / math.sqrt(n_in + n_out):.5f}")

# %% [markdown]
# ## 1. Deep linear networks on hierarchical data
#
# *Time: about 20 minutes.*
#
# Depth does not make a linear network more expressive: $W_2 W_1$ is just one matrix. What depth
# changes is the **learning dynamics**, and those become visible on data with structure. Ours
# is a toy model of semantic knowledge: eight items, and for each item a long list of features
# ("can swim", "has leaves", ...). The network gets an item's name as a one-hot input and must
# output all of its features, each $+1$ (yes) or $-1$ (no).
#
# The features come from a **branching diffusion process** on a binary tree of depth 3 whose
# eight leaves are the items: goldfish and tuna (fish), robin and canary (birds), rose and daisy
# (flowers), pine and oak (trees). To sample one feature, the root draws a random sign; going
# down the tree, every node copies its parent's sign but flips it with probability $p = 0.15$.
# The signs that arrive at the leaves are the feature's values for the eight items. Two items
# that share a long path agree often: for siblings the feature agrees with correlation
# $(1-2p)^2 \approx 0.49$, across the animal/plant split only $(1-2p)^6 \approx 0.12$. We sample
# 10,000 such features.

# %%
data = hierarchical_data(n_features=10_000, flip_probability=0.15, seed=SEED, device=DEVICE)
show(demos.plot_tree_data(data))
print(f"inputs {tuple(data.items.shape)} (one-hot item codes), "
      f"targets {tuple(data.features.shape)} (features), items: {', '.join(data.item_names)}")

# %% [markdown]
# **Think.** The network sees no tree, only eight input codes and their features. What would it
# have to discover to predict the features well? Which items should end up with similar hidden
# representations?
#
#
# <details>
# <summary>A model answer</summary>
#
# It has to discover the tree: which items share features. Predicting well means
# representing first what all items share, then what separates animals from plants, then fish
# from birds and flowers from trees, and finally the individual items. Items close in the tree
# (goldfish and tuna, rose and daisy) should end up with similar hidden representations.
#
# </details>
#
# Now train the network from a tiny initialization ($\gamma = 10^{-12}$) with learning rate
# $\eta = 100$ for 250 epochs (the loss is an average over $8 \times 10{,}000$ numbers, hence the
# large learning rate).

# %%
LR, GAMMA, N_EPOCHS, HIDDEN = 100.0, 1e-12, 250, 30

model = LinearNet(8, HIDDEN, data.features.shape[1]).to(DEVICE)
initialize(model, GAMMA)
record = train(model, data.items, data.features, n_epochs=N_EPOCHS, lr=LR)
show(demos.plot_loss(record.losses, title=f"Training loss (eta = {LR:g}, gamma = {GAMMA:g})"))

# %% [markdown]
# **Think.** The loss does not fall smoothly: long plateaus alternate with sudden drops. Why
# would a *linear* model get stuck? (Hint: with all weights near zero, the gradient of
# $W_2 W_1$ with respect to either factor is proportional to the other factor, which is tiny.)
# How many drops do you count, and how large is each one?
#
#
# <details>
# <summary>A model answer</summary>
#
# At zero every weight's gradient is a product with the other layer's weights, so near
# zero all gradients are tiny and the weights grow only exponentially slowly: a plateau. Once a
# mode has grown enough it feeds its own growth and is learned quickly, the drop. You should see
# four drops, the first largest: one per group of modes (1, 1, 2 and 4 modes; see Section 2),
# each removing the part of the loss that its modes explain.
#
# </details>
#
# ### Interactive demo: loss against learning rate and initialization scale
#
# Move the sliders. Each change retrains the network (a few seconds). Look for the fastest
# reliable setting, and for the range of $\gamma$ in which the steps appear. What happens with a
# large $\gamma$? With a large $\eta$ and a large $\gamma$?

# %%
demos.loss_lr_gamma_widget(data)


# %% [markdown]
# ## 2. Singular value decomposition and learning dynamics
#
# *Time: about 25 minutes.*
#
# However many layers it has, a linear network computes one linear map, its **total map**
#
# $$
# W_\text{tot} = W_L W_{L-1} \cdots W_2 W_1 , \qquad \hat{\mathbf{y}} = W_\text{tot}\, \mathbf{x} .
# $$
#
# Any real matrix, square or not, has a **singular value decomposition** (SVD)
#
# $$
# W_\text{tot} = U\, \Sigma\, V^\top = \sum_{\alpha} s_\alpha\, \mathbf{u}_\alpha \mathbf{v}_\alpha^\top ,
# $$
#
# where the columns $\mathbf{v}_\alpha$ of $V$ (input directions) are orthonormal, the columns
# $\mathbf{u}_\alpha$ of $U$ (output directions) are orthonormal, and the **singular values**
# $s_1 \ge s_2 \ge \dots \ge 0$ on the diagonal of $\Sigma$ say how strongly input direction
# $\mathbf{v}_\alpha$ is mapped onto output direction $\mathbf{u}_\alpha$. Each term is a
# **mode**. Unlike an eigendecomposition, the SVD needs neither a square matrix nor a symmetric
# one, and its two sets of directions are always orthonormal. Applied to a (centred) data
# matrix, the SVD is principal component analysis: the variance that mode $\alpha$ explains is
# proportional to $s_\alpha^2$, so the strongest modes carry most of the structure.
#
# Saxe, McClelland and Ganguli (2013, 2014) showed that, for whitened inputs and a small
# initialization, a deep linear network learns the modes of its *data* (the SVD of the
# input-output correlations) **independently**: the wide network behaves like a set of narrow,
# one-path networks, one per mode, each with its own learning curve.
#
# ### Exercise 2: `ex_net_svd(model, in_dim)`
#
# Compute the total map by multiplying all weight matrices of `model` (in the order the input
# meets them, so the first layer's weight is the rightmost factor), then return its SVD as
# `(U, S, V)` in the convention of `torch.svd`: `U @ torch.diag(S) @ V.T` equals the total map,
# `S` is a vector sorted in decreasing order. This is the *reduced* SVD: for a total map of shape
# $(N_\text{out}, N_\text{in})$ and $k = \min(N_\text{out}, N_\text{in})$, `U` has shape
# $(N_\text{out}, k)$ and `V` shape $(N_\text{in}, k)$. Create any starting matrix on the weights' device
# (`weight.device`) so that your function also works on a GPU. Careful: `torch.linalg.svd` returns
# $V^\top$ (called `Vh`), not $V$, and needs `full_matrices=False` for the reduced SVD.

# %% nbgrader={"grade": false, "grade_id": "ex_net_svd", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ex_net_svd(model, in_dim):
    """SVD of the total map (product of all weights) of `model`, in torch.svd's convention.

    Args:
        model: a linear network whose parameters are its weight matrices, input layer first.
        in_dim: the input dimension of the model.

    Returns:
        (U, S, V) with total map = U @ diag(S) @ V.T and S sorted in decreasing order.
    """
    ### BEGIN SOLUTION
    weights = [weight.detach() for weight in model.parameters()]
    w_tot = torch.eye(in_dim, device=weights[0].device)
    for weight in weights:
        w_tot = weight @ w_tot
    U, S, V = torch.svd(w_tot)
    return U, S, V
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ex_net_svd", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from helpers.deep_linear import checks

checks.self_check("ex_net_svd", ex_net_svd)
### BEGIN HIDDEN TESTS
checks.hidden_check("ex_net_svd", ex_net_svd)
### END HIDDEN TESTS

# %% [markdown]
# Let us apply your function to the network trained in Section 1 and compare its singular values
# with those of the data's own input-output map (here the item-feature matrix, since the inputs
# are one-hot codes).

# %%
svd_of = EXERCISES.implementation("ex_net_svd", globals())
_, trained_s, _ = svd_of(model, 8)
trained_s = trained_s.detach().cpu()
data_s = torch.linalg.svdvals(data.features.T.cpu())
print("trained network:", np.round(trained_s.numpy(), 1))
print("data:           ", np.round(data_s.numpy(), 1))
show(demos.plot_loss_and_modes(record, title="Each drop of the loss is one mode being learned"))

# %% [markdown]
# **Think.** Match the drops of the loss to the singular values. Which modes are learned
# together, and why might they come in groups of 1, 1, 2 and 4?
#
#
# <details>
# <summary>A model answer</summary>
#
# Modes with (nearly) equal singular values are learned at the same time, and gradient
# descent learns the strongest first. The groups follow the tree: one direction shared by all
# items (the largest singular value), one that splits animals from plants, two that split fish
# from birds and flowers from trees (the tree is symmetric, so their singular values are about
# equal), and four that split the pairs into individual items.
#
# </details>
#
# ### Beyond the tutorial: the closed-form trajectory of each mode
#
# Saxe, McClelland and Ganguli (2014) solved the learning dynamics exactly under three
# **assumptions**:
#
# 1. **whitened inputs**: the input covariance $\Sigma^{11} = \frac1P \sum_\mu \mathbf{x}_\mu \mathbf{x}_\mu^\top$ is $c\,I$
#    (ours: one-hot codes, $c = 1/P = 1/8$);
# 2. **small, balanced and aligned initial conditions**: the weights start near zero, each
#    mode's strength is shared equally between the two layers, and the layers' singular vectors
#    start *aligned* with the data's (the input directions of $W_1$ with the $\mathbf{v}_\alpha$,
#    the output directions of $W_2$ with the $\mathbf{u}_\alpha$), so that the modes never
#    mix;
# 3. **gradient flow**: the learning rate is small enough that discrete steps follow the
#    continuous-time equation $\tau \frac{d W_1}{dt} = W_2^\top\left(\Sigma^{31} - W_2 W_1 \Sigma^{11}\right)$
#    (and the mirror image for $W_2$), with $\Sigma^{31} = \frac1P \sum_\mu \mathbf{y}_\mu \mathbf{x}_\mu^\top$.
#
# Differentiating our loss gives exactly this equation with $t$ counted in epochs and
# $\tau = N_\text{out} / (2\eta)$. Each mode $\alpha$ of $\Sigma^{31}$, with singular value
# $s_\alpha$, then evolves on its own; measured as a singular value of the total map,
#
# $$
# u_\alpha(t) = \frac{S_\alpha\, e^{2 S_\alpha t/\tau'}}{e^{2 S_\alpha t/\tau'} - 1 + S_\alpha/u_{0,\alpha}},
# \qquad S_\alpha = \frac{s_\alpha}{c}, \quad \tau' = \frac{\tau}{c} = \frac{P\,N_\text{out}}{2\eta},
# $$
#
# a sigmoid from the initial strength $u_{0,\alpha}$ up to $S_\alpha$, the singular value of the
# least-squares solution. Its midpoint lies near $t \approx \frac{\tau'}{2S_\alpha}\ln\frac{S_\alpha}{u_{0,\alpha}}$:
# strong modes are learned first, and making the initialization $k$ times smaller delays mode
# $\alpha$ by $\frac{\tau'}{2S_\alpha}\ln k$ epochs, a delay that grows only *logarithmically*
# with $k$ but is longer for weak modes than for strong ones. Our random initialization is
# neither balanced nor aligned, but while the weights are small the difference between the two
# layers' projections dies out, their sum grows, and the growing modes align themselves, so the
# effective start is $u_{0,\alpha} = \lVert W_1 \mathbf{v}_\alpha + W_2^\top \mathbf{u}_\alpha \rVert^2 / 4$,
# computed from the actual initial weights. `helpers.deep_linear.theory.saxe_parameters`
# derives $S_\alpha$, $\tau'$ and $u_{0,\alpha}$; `demos.saxe_comparison` trains a fresh network
# and returns the prediction alongside (dashed lines).
#
# ### Exercise 2.2: `saxe_half_time(s, tau, u0)`
#
# When is a mode half learned? Write `saxe_half_time(s, tau, u0)`, which returns the time $t$
# at which the closed form $u(t)$ above, with strength $s$ ($S_\alpha$), time constant `tau`
# ($\tau'$) and initial strength `u0`, reaches **exactly** half its final value, $u(t) = s/2$.
# Solve the equation by hand first (it takes three lines), then code the result with `math` or
# `numpy`. Assume $u_0 < s/2$. The demo below prints your half times beside the simulation's.

# %% nbgrader={"grade": false, "grade_id": "saxe_half_time", "locked": false, "schema_version": 3, "solution": true, "task": false}
def saxe_half_time(s, tau, u0):
    """Time at which u(t) = s e^{2st/tau} / (e^{2st/tau} - 1 + s/u0) reaches s / 2.

    Args:
        s: the mode's final strength (a positive number).
        tau: the time constant (in epochs).
        u0: the mode's initial strength, 0 < u0 < s / 2.

    Returns:
        the half time, in the units of tau.
    """
    ### BEGIN SOLUTION
    # s/2 (e^x - 1 + s/u0) = s e^x  gives  e^x = s/u0 - 1, with x = 2 s t / tau.
    return tau / (2 * s) * math.log(s / u0 - 1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_saxe_half_time", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from helpers.deep_linear import checks

checks.self_check("saxe_half_time", saxe_half_time)
### BEGIN HIDDEN TESTS
checks.hidden_check("saxe_half_time", saxe_half_time)
### END HIDDEN TESTS

# %% [markdown]
# Now the whole comparison: the simulation (solid) and the closed form (dashed), and the epoch
# at which each mode reaches half its final value, in the simulation, on the predicted curves
# (rounded up to whole epochs) and from your `saxe_half_time`.

# %%
half_time = EXERCISES.implementation("saxe_half_time", globals())
demos.saxe_demo(
    data,
    lr=100.0,
    gamma=1e-12,
    n_epochs=250,
    title="eta = 100: simulation and closed form",
    half_time=half_time,
)

# %% [markdown]
# The shape of every curve and the order and grouping of the modes come out right, but the
# simulation lags behind the prediction by about 10%, and most for the strongest mode. The
# culprit is assumption 3: with
# $\eta = 100$, the strongest mode grows by a factor $(1 + S_1/\tau')^2 \approx 1.9$ per epoch
# while gradient flow would grow it by $e^{2S_1/\tau'} \approx 2.2$. Divide the learning rate
# by four and run four times as many epochs: the same gradient flow, followed in smaller steps.

# %%
demos.saxe_demo(
    data, lr=25.0, n_epochs=1000, title="eta = 25: smaller steps, nearer the flow", progress=True
)


# %% [markdown]
# **Think.** The gap shrinks roughly in proportion to $\eta$. What else could make the
# prediction fail? Try (in your head, or with `demos.saxe_comparison`) a large $\gamma$: the
# initialization is then neither small nor balanced.
#
#
# <details>
# <summary>A model answer</summary>
#
# Any broken assumption: a large $\gamma$ starts far from zero, unbalanced and unaligned,
# so the modes mix and there is no plateau to predict; inputs that are not whitened couple the
# modes through the input covariance; a nonlinearity or more layers change the equations (more
# layers give sharper transitions, still with a closed form for balanced starts).
#
# </details>
#
# ## 3. Representational similarity analysis
#
# *Time: about 20 minutes.*
#
# Is the first mode really "everything shares this", the second "animals versus plants", and so
# on? Representational similarity analysis (RSA) answers such questions by looking at how
# similar the hidden activities that different inputs cause are. If the hidden activities of the
# $P$ items are the rows of $H \in \mathbb{R}^{P \times N_\text{hid}}$, the **representational
# similarity matrix** holds all their dot products,
#
# $$
# \text{RSM} = H H^\top, \qquad \text{RSM}_{ij} = \mathbf{h}_i \cdot \mathbf{h}_j .
# $$
#
# Items the network treats alike get a large entry; a representation that knows only "animal or
# plant" shows two blocks. RSA proper then *compares* such matrices: those of two layers, two
# networks, or a network and brain recordings, typically by correlating their entries above the
# diagonal, which works even when the representations have different sizes. Similarity is often
# measured by cosine similarity or correlation rather than the raw dot product, so that the
# overall size of the activities does not count; we keep dot products, whose growth shows the
# modes being learned.
#
# ### Exercise 3: `ex_net_rsm(h)`
#
# Return the representational similarity matrix of the activities `h` (one row per input).

# %% nbgrader={"grade": false, "grade_id": "ex_net_rsm", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ex_net_rsm(h):
    """Representational similarity matrix h h^T of hidden activities h (one row per input).

    Args:
        h: tensor of shape (n_inputs, n_hidden).

    Returns:
        tensor of shape (n_inputs, n_inputs).
    """
    ### BEGIN SOLUTION
    return h @ h.T
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_ex_net_rsm", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from helpers.deep_linear import checks

checks.self_check("ex_net_rsm", ex_net_rsm)
### BEGIN HIDDEN TESTS
checks.hidden_check("ex_net_rsm", ex_net_rsm)
### END HIDDEN TESTS

# %%
rsm_of = EXERCISES.implementation("ex_net_rsm", globals())
with torch.no_grad():
    _, trained_hidden = model(data.items)
trained_rsm = rsm_of(trained_hidden).cpu().numpy()
show(demos.plot_rsm(trained_rsm, data.item_names, "Hidden-layer RSM after training"))

# %% [markdown]
# ### Interactive demo: SVD/RSA explorer
#
# The explorer trains the network once per choice of $\eta$ and $\gamma$ (and remembers the
# result) and shows the RSM of the hidden layer at the epoch you pick. Start with the defaults
# and move the epoch slider through each drop of the loss: which blocks appear in the RSM as each
# mode is learned? Then try a large $\gamma$: does the network still build its representation
# coarse-to-fine?

# %%
demos.svd_rsa_explorer(data)

# %% [markdown]
# **Think.** A network without a hidden layer learns the same final map (Section 6). Does it
# have a representation to analyse? What does depth add, if not expressive power?
#
#
# <details>
# <summary>A model answer</summary>
#
# No: its only activities are the inputs (fixed one-hot codes, all equally dissimilar) and
# the outputs. Depth adds an internal representation that is learned, and learning dynamics with
# plateaus and stages: coarse-to-fine structure, in the order of the data's singular values.
#
# </details>
#
# ## 4. Illusory correlations
#
# *Time: about 20 minutes.*
#
# Long plateaus tempt us to stop training early. A network stopped between two drops of the loss
# has learned the coarse modes but not the fine ones, and coarse modes can imply things that are
# false for individual items.
#
# Replace the goldfish by a **shark** and add a feature "has bones": true for tuna, robin and
# canary, false for the plants, and false for the shark, whose skeleton is cartilage. We record
# the network's prediction of "shark has bones" at every epoch.

# %%
shark_items = ["shark", "tuna", "robin", "canary", "rose", "daisy", "pine", "oak"]
has_bones = [-1, 1, 1, 1, -1, -1, -1, -1]
demos.illusion_demo(
    shark_items,
    has_bones,
    "has_bones",
    watched_item="shark",
    label="does the shark have bones?",
    show_data=True,
    seed=SEED,
    device=DEVICE,
)

# %% [markdown]
# When the animal/plant mode is learned, the network concludes that the shark, being an animal,
# has bones, although no training example ever said so. Only when the finer modes that separate
# individual items are learned does the prediction turn to the truth. Stopping in between would
# leave us with an **illusory correlation**: a belief that holds for the category and is false
# for the item.
#
# ### Your turn: build your own example
#
# Edit the variables below (marked `# edit`) and rerun the cell: the item names (the inputs are one-hot codes, so
# names are only labels), a feature vector with one value per item ($+1$ yes, $-1$ no), its
# name, and the item whose prediction you want to watch. The example given: all other creatures
# "cannot speak", the parrot can. Think of medical, natural or social examples: where could a
# model that learns categories first mislead the people who rely on it?
#
#
# <details>
# <summary>A model answer</summary>
#
# Examples: a drug that works for most of a class of patients but is harmful for one
# subgroup; a bird that cannot fly (penguin, ostrich); a loan applicant judged by the average of
# a neighbourhood. A model stopped early, or trained on too few examples of the exception, applies
# the category's rule to the individual, and the people it misjudges are the exceptions.
#
# </details>
#
# %%
my_items = ["goldfish", "tuna", "robin", "parrot", "rose", "daisy", "pine", "oak"]  # edit
my_feature = [1, 1, 1, -1, 1, 1, 1, 1]  # edit: one value per item, +1 yes, -1 no
my_feature_name = "cannot_speak"  # edit
my_watched_item = "parrot"  # edit: one of my_items

demos.illusion_demo(
    my_items, my_feature, my_feature_name, my_watched_item, seed=SEED, device=DEVICE
)


# %% [markdown]
# ## 5. Summary
#
# - A deep linear network computes one linear map, yet learns it in **stages**: from a small
#   initialization, the loss shows plateaus and sudden drops.
# - The **SVD** of the total map splits learning into independent **modes**; gradient descent
#   learns strong modes (large singular values of the data) first. For whitened inputs, small
#   balanced and aligned initial conditions and small steps, each mode follows the closed-form
#   sigmoid of Saxe, McClelland and Ganguli, with a time constant set by the learning rate and
#   the data scaling; its half time is $\frac{\tau'}{2S}\ln\left(\frac{S}{u_0} - 1\right)$, a
#   delay that grows with the logarithm of $1/\text{initial scale}$.
# - **RSA** shows the representation forming coarse-to-fine: the tree's broad splits appear in
#   the hidden layer before its fine ones.
# - A network stopped on a plateau can hold **illusory correlations**: category-level beliefs
#   that are wrong for individual items.
#
# ## 6. Bonus: linear regression
#
# *Time: about 20 minutes.*
#
# Regression models how dependent variables (outputs, responses) depend on independent
# variables (inputs, features, also called **predictors**). With one output and several
# predictors it is **multiple** regression; with several outputs, as here, it is
# **multivariate** regression. In multivariate linear regression a weight matrix
# $W \in \mathbb{R}^{N_\text{out} \times N_\text{in}}$ maps each input $\mathbf{x}$ to a
# prediction $\hat{\mathbf{y}} = W\mathbf{x}$ (an affine map adds a bias, which we leave out
# here as in our networks). Stacking the $P$ samples as columns gives
# $X \in \mathbb{R}^{N_\text{in} \times P}$, $Y \in \mathbb{R}^{N_\text{out} \times P}$ and
# $\hat{Y} = W X$. The least-squares weights minimise
#
# $$
# \mathcal{L}(W) = \lVert Y - W X \rVert_F^2 = \operatorname{tr}\!\left[(Y - WX)^\top (Y - WX)\right].
# $$
#
# Setting the gradient $\nabla_W \mathcal{L} = -2\,(Y - WX)X^\top$ to zero gives the normal
# equations $W X X^\top = Y X^\top$ and, when $X X^\top$ is invertible (the features are linearly
# independent across samples),
#
# $$
# W^\ast = Y X^\top \left(X X^\top\right)^{-1} .
# $$
#
# ### Exercise 6: `linear_regression(X, Y)`
#
# Return $W^\ast$ for numpy arrays `X` (features × samples) and `Y` (outputs × samples). Any
# numpy linear algebra is fine (`inv`, `solve`, `lstsq`, `pinv`).

# %% nbgrader={"grade": false, "grade_id": "linear_regression", "locked": false, "schema_version": 3, "solution": true, "task": false}
def linear_regression(X, Y):
    """Least-squares weights W minimising ||Y - W X||^2.

    Args:
        X: np.ndarray of shape (n_features, n_samples).
        Y: np.ndarray of shape (n_outputs, n_samples).

    Returns:
        W: np.ndarray of shape (n_outputs, n_features), W = Y X^T (X X^T)^-1.
    """
    ### BEGIN SOLUTION
    return Y @ X.T @ np.linalg.inv(X @ X.T)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "test_linear_regression", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from helpers.deep_linear import checks

checks.self_check("linear_regression", linear_regression)
### BEGIN HIDDEN TESTS
checks.hidden_check("linear_regression", linear_regression)
### END HIDDEN TESTS

# %% [markdown]
# A quick example: three outputs that depend linearly on three features, 37 noisy samples.

# %%
regress = EXERCISES.implementation("linear_regression", globals())
rng = np.random.default_rng(SEED)
W_true = rng.integers(0, 10, size=(3, 3)).astype(float)
X_train = rng.random((3, 37))
Y_train = W_true @ X_train + rng.normal(scale=0.01, size=(3, 37))
print("true weights:\n", W_true)
print("estimated weights:\n", np.round(regress(X_train, Y_train), 1))

# %% [markdown]
# ### Three roads to one map
#
# A network without hidden layers *is* linear regression, and a deep linear network collapses to
# one matrix too. On the tree data, compare
#
# 1. the analytic solution $W^\ast$ (your `linear_regression`, with samples as columns),
# 2. a network with **zero hidden layers** trained by gradient descent, and
# 3. the total map $W_2 W_1$ of the deep network trained in Section 1.

# %%
X_tree = data.items.T.cpu().numpy().astype(np.float64)  # features x samples
Y_tree = data.features.T.cpu().numpy().astype(np.float64)  # outputs x samples
analytic_w = regress(X_tree, Y_tree)

demos.three_roads_demo(data, model, analytic_w)

# %% [markdown]
# Three different roads, one destination: the deep network's depth changed *how* it learned
# (in stages, building a representation on the way), not *what* it learned in the end.
#
# **References.** A. M. Saxe, J. L. McClelland and S. Ganguli, *Exact solutions to the nonlinear
# dynamics of learning in deep linear neural networks*, ICLR 2014; A. M. Saxe, J. L. McClelland
# and S. Ganguli, *A mathematical theory of semantic development in deep neural networks*, PNAS
# 116(23), 2019. Built from the Neuromatch Academy tutorial on deep linear networks.
