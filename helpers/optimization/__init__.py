"""Notebook 03, optimization: the machinery behind its exercises and demos.

- ``rules``: the one protocol every in-place update rule of the notebook follows
  (``InPlaceRule``: an update function, how to start its state, its hyperparameters), and
  ``zero_grad``, which students may call;
- ``landscape``: a two-parameter slice of a linear classifier's loss, a badly conditioned
  quadratic bowl beside it, their exact optima and the curvature facts (condition number,
  recommended momentum) derived from them;
- ``reference``: the answers of the exercises (never imported by ``checks``);
- ``checks``: the exercise registry ``EXERCISES`` (self-checks and hidden checks);
- ``demos``: compute functions, figures and widgets of the notebook.
"""

ASSIGNMENT = "03_optimization"
