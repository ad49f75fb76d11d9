"""Notebook 01, PyTorch basics: fitting sin(x) with a cubic, one PyTorch feature at a time.

- ``polynomial``: the data, the models (``Polynomial3``, the linear model on cubic features,
  ``DynamicPolynomial``), the closed-form least-squares optimum and the step-size limit of
  gradient descent;
- ``loops``: what the notebook's training loops share (progress bars, short runs while
  grading);
- ``optimizers``: torch's SGD and RMSprop without torch's general machinery (the demo's
  thousands of steps, and the grader's fresh process per submission, pay less);
- ``autograd_function``: a custom Function's ``forward`` and ``backward`` called by hand,
  with a ``ctx`` that notes whether ``save_for_backward`` was used (the checks of the two
  Function exercises, where the grader switches autograd off);
- ``reference``: the answers of the exercises (never imported by ``checks``);
- ``checks``: the exercise registry ``EXERCISES`` (self-checks and hidden checks);
- ``demos``: figures, the comparison table, and the learning-rate demo.
"""

ASSIGNMENT = "01_pytorch_basics"
