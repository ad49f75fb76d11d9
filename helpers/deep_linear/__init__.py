"""Notebook 02, deep linear networks: the machinery behind its exercises and demos.

- ``network``: ``LinearNet`` (no biases, no nonlinearity), the total map, and the training loop
  that records loss, singular values, similarity matrices and one prediction at every epoch;
- ``theory``: the closed-form learning trajectories of Saxe, McClelland and Ganguli (2014),
  and the half times that compare them with a simulation;
- ``reference``: the answers of the exercises (never imported by ``checks``);
- ``checks``: the exercise registry ``EXERCISES`` (self-checks and hidden checks);
- ``demos``: compute functions, figures and widgets of the notebook.
"""

ASSIGNMENT = "02_deep_linear_networks"
