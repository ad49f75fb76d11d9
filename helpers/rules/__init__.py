"""Notebook 04: optimizers as rules with their state kept apart.

A *rule* is a small immutable object of hyperparameters that knows how to start a state for
one parameter (``init``) and how to turn a gradient into a step (``apply``). Everything the
optimizer remembers lives in a separate *state tree* that mirrors the model's parameters, so
that a training step is a plain function ``(state, model, grads) -> (state, model)``. The
design follows optax (JAX) and Optimisers.jl (Julia), brought to PyTorch.

Modules: ``protocol`` (the rule protocol, the rules the notebook gives, the state tree,
``setup``/``update``/``update_``/``adjust``/``freeze``/``thaw``/``chain``), ``schedules``
(learning rates as functions of the step count), ``affine`` (the hand-made model of the
notebook and its data), ``reference`` (the answers to the exercises), ``checks`` (their
registry) and ``demos``.
"""

ASSIGNMENT = "04_optimizer_rules"
