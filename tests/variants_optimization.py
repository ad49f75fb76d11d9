"""Wrong and correct solution cells of notebook 03 (optimization), for the mutation suite.

Data only. ``WRONG[exercise]`` maps a label to a realistic wrong solution cell and
``CORRECT[exercise]`` to a correct one written differently from the reference; each is the
full source of the exercise's solution cell. Every wrong cell must fail the exercise's
``run_hidden_check`` (and lose its points when graded); every correct one must pass it.
"""

ASSIGNMENT = "03_optimization"
NOTEBOOK = "optimization.ipynb"

WRONG = {
    "gradient_update": {
        "ascends_instead_of_descending": """\
import random

import numpy as np
import torch


def gradient_update(loss, params, lr=1e-3):
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par in params:
            par += lr * par.grad
""",
        "gradients_not_zeroed": """\
import random

import numpy as np
import torch


def gradient_update(loss, params, lr=1e-3):
    loss.backward()
    with torch.no_grad():
        for par in params:
            par -= lr * par.grad
""",
        "rebinds_instead_of_updating_in_place": """\
import random

import numpy as np
import torch


def gradient_update(loss, params, lr=1e-3):
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par in params:
            par = par - lr * par.grad
""",
        "zeroes_gradients_after_backward": """\
import random

import numpy as np
import torch


def gradient_update(loss, params, lr=1e-3):
    loss.backward()
    for par in params:
        par.grad.zero_()
    with torch.no_grad():
        for par in params:
            par -= lr * par.grad
""",
        "ignores_the_learning_rate": """\
import random

import numpy as np
import torch


def gradient_update(loss, params, lr=1e-3):
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par in params:
            par -= 1e-3 * par.grad
""",
        "uses_torch_optim_sgd": """\
import random

import numpy as np
import torch


def gradient_update(loss, params, lr=1e-3):
    optimizer = torch.optim.SGD(params, lr=lr)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
""",
        "calls_the_helpers_reference": """\
import random

import numpy as np
import torch


def gradient_update(loss, params, lr=1e-3):
    from helpers.optimization.reference import gradient_update as reference
    reference(loss, params, lr)
""",
    },
    "momentum_update": {
        "velocity_not_stored_back": """\
import random

import numpy as np
import torch


def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par, vel in zip(params, grad_vel):
            vel = beta * vel - lr * par.grad
            par += vel
""",
        "stale_velocity_in_the_weight_update": """\
import random

import numpy as np
import torch


def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par, vel in zip(params, grad_vel):
            par += vel
            vel.mul_(beta).sub_(lr * par.grad)
""",
        "gradient_sign_flipped_in_velocity": """\
import random

import numpy as np
import torch


def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par, vel in zip(params, grad_vel):
            vel.mul_(beta).add_(lr * par.grad)
            par += vel
""",
        "subtracts_the_velocity": """\
import random

import numpy as np
import torch


def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par, vel in zip(params, grad_vel):
            vel.mul_(beta).sub_(lr * par.grad)
            par -= vel
""",
        "dampened_average_instead_of_sum": """\
import random

import numpy as np
import torch


def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par, vel in zip(params, grad_vel):
            vel.mul_(beta).sub_((1 - beta) * lr * par.grad)
            par += vel
""",
        "gradients_not_zeroed": """\
import random

import numpy as np
import torch


def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):
    loss.backward()
    with torch.no_grad():
        for par, vel in zip(params, grad_vel):
            vel.mul_(beta).sub_(lr * par.grad)
            par += vel
""",
        "uses_torch_optim_sgd": """\
import random

import numpy as np
import torch


def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):
    optimizer = torch.optim.SGD(params, lr=lr, momentum=beta)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
""",
    },
    "momentum_hyperparameters": {
        "assumes_sorted_eigenvalues": """\
import random

import numpy as np
import torch


def momentum_hyperparameters(eigenvalues):
    smallest, largest = eigenvalues[0], eigenvalues[-1]
    kappa = largest / smallest
    momentum_lr = (2 / (largest**0.5 + smallest**0.5)) ** 2
    momentum_beta = ((kappa**0.5 - 1) / (kappa**0.5 + 1)) ** 2
    return kappa, 2 / (largest + smallest), momentum_lr, momentum_beta
""",
        "condition_number_inverted": """\
import random

import numpy as np
import torch


def momentum_hyperparameters(eigenvalues):
    largest, smallest = max(eigenvalues), min(eigenvalues)
    kappa = smallest / largest
    root = (largest / smallest) ** 0.5
    momentum_lr = (2 / (largest**0.5 + smallest**0.5)) ** 2
    return kappa, 2 / (largest + smallest), momentum_lr, ((root - 1) / (root + 1)) ** 2
""",
        "gd_step_two_over_largest": """\
import random

import numpy as np
import torch


def momentum_hyperparameters(eigenvalues):
    largest, smallest = max(eigenvalues), min(eigenvalues)
    kappa = largest / smallest
    momentum_lr = (2 / (largest**0.5 + smallest**0.5)) ** 2
    momentum_beta = ((kappa**0.5 - 1) / (kappa**0.5 + 1)) ** 2
    return kappa, 2 / largest, momentum_lr, momentum_beta
""",
        "beta_not_squared": """\
import random

import numpy as np
import torch


def momentum_hyperparameters(eigenvalues):
    largest, smallest = max(eigenvalues), min(eigenvalues)
    kappa = largest / smallest
    momentum_lr = (2 / (largest**0.5 + smallest**0.5)) ** 2
    momentum_beta = (kappa**0.5 - 1) / (kappa**0.5 + 1)
    return kappa, 2 / (largest + smallest), momentum_lr, momentum_beta
""",
        "momentum_lr_not_squared": """\
import random

import numpy as np
import torch


def momentum_hyperparameters(eigenvalues):
    largest, smallest = max(eigenvalues), min(eigenvalues)
    kappa = largest / smallest
    momentum_lr = 2 / (largest**0.5 + smallest**0.5)
    momentum_beta = ((kappa**0.5 - 1) / (kappa**0.5 + 1)) ** 2
    return kappa, 2 / (largest + smallest), momentum_lr, momentum_beta
""",
        "beta_without_square_roots": """\
import random

import numpy as np
import torch


def momentum_hyperparameters(eigenvalues):
    largest, smallest = max(eigenvalues), min(eigenvalues)
    kappa = largest / smallest
    momentum_lr = (2 / (largest**0.5 + smallest**0.5)) ** 2
    momentum_beta = ((kappa - 1) / (kappa + 1)) ** 2
    return kappa, 2 / (largest + smallest), momentum_lr, momentum_beta
""",
        "returns_in_another_order": """\
import random

import numpy as np
import torch


def momentum_hyperparameters(eigenvalues):
    largest, smallest = max(eigenvalues), min(eigenvalues)
    kappa = largest / smallest
    momentum_lr = (2 / (largest**0.5 + smallest**0.5)) ** 2
    momentum_beta = ((kappa**0.5 - 1) / (kappa**0.5 + 1)) ** 2
    return kappa, 2 / (largest + smallest), momentum_beta, momentum_lr
""",
    },
    "sample_minibatch": {
        "misaligned_inputs_and_targets": """\
import random

import numpy as np
import torch


def sample_minibatch(input_data, target_data, num_points=100):
    n = len(input_data)
    inputs = input_data[torch.randint(n, (num_points,))]
    targets = target_data[torch.randint(n, (num_points,))]
    return inputs, targets
""",
        "fixed_seed_inside": """\
import random

import numpy as np
import torch


def sample_minibatch(input_data, target_data, num_points=100):
    torch.manual_seed(0)
    indices = torch.randint(len(input_data), (num_points,))
    return input_data[indices], target_data[indices]
""",
        "first_examples_every_time": """\
import random

import numpy as np
import torch


def sample_minibatch(input_data, target_data, num_points=100):
    return input_data[:num_points], target_data[:num_points]
""",
        "never_draws_the_last_example": """\
import random

import numpy as np
import torch


def sample_minibatch(input_data, target_data, num_points=100):
    indices = np.random.randint(0, len(input_data) - 1, size=num_points)
    return input_data[indices], target_data[indices]
""",
        "fixed_seed_numpy_generator": """\
import random

import numpy as np
import torch


def sample_minibatch(input_data, target_data, num_points=100):
    rng = np.random.default_rng(42)
    indices = rng.choice(len(input_data), size=num_points, replace=False)
    return input_data[indices], target_data[indices]
""",
        "contiguous_block_from_a_random_start": """\
import random

import numpy as np
import torch


def sample_minibatch(input_data, target_data, num_points=100):
    start = random.randint(0, len(input_data) - num_points)
    block = slice(start, start + num_points)
    return input_data[block], target_data[block]
""",
        "calls_the_helpers_reference": """\
import random

import numpy as np
import torch


def sample_minibatch(input_data, target_data, num_points=100):
    from helpers.optimization import reference
    return reference.sample_minibatch(input_data, target_data, num_points)
""",
    },
    "rmsprop_update": {
        "missing_square_root": """\
import random

import numpy as np
import torch


def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par, gsq in zip(params, grad_sq):
            gsq.mul_(alpha).add_((1 - alpha) * par.grad**2)
            par -= lr * par.grad / (gsq + epsilon)
""",
        "swapped_alpha_and_one_minus_alpha": """\
import random

import numpy as np
import torch


def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par, gsq in zip(params, grad_sq):
            gsq.mul_(1 - alpha).add_(alpha * par.grad**2)
            par -= lr * par.grad / torch.sqrt(gsq + epsilon)
""",
        "epsilon_outside_the_square_root": """\
import random

import numpy as np
import torch


def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par, gsq in zip(params, grad_sq):
            gsq.mul_(alpha).add_((1 - alpha) * par.grad**2)
            par -= lr * par.grad / (torch.sqrt(gsq) + epsilon)
""",
        "average_not_stored_back": """\
import random

import numpy as np
import torch


def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par, gsq in zip(params, grad_sq):
            gsq = alpha * gsq + (1 - alpha) * par.grad**2
            par -= lr * par.grad / torch.sqrt(gsq + epsilon)
""",
        "stale_average_in_the_weight_update": """\
import random

import numpy as np
import torch


def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par, gsq in zip(params, grad_sq):
            par -= lr * par.grad / torch.sqrt(gsq + epsilon)
            gsq.mul_(alpha).add_((1 - alpha) * par.grad**2)
""",
        "absolute_instead_of_squared_gradient": """\
import random

import numpy as np
import torch


def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par, gsq in zip(params, grad_sq):
            gsq.mul_(alpha).add_((1 - alpha) * par.grad.abs())
            par -= lr * par.grad / torch.sqrt(gsq + epsilon)
""",
        "gradients_not_zeroed": """\
import random

import numpy as np
import torch


def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):
    loss.backward()
    with torch.no_grad():
        for par, gsq in zip(params, grad_sq):
            gsq.mul_(alpha).add_((1 - alpha) * par.grad**2)
            par -= lr * par.grad / torch.sqrt(gsq + epsilon)
""",
        "uses_torch_optim_rmsprop": """\
import random

import numpy as np
import torch


def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):
    optimizer = torch.optim.RMSprop(params, lr=lr, alpha=alpha, eps=epsilon)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
""",
    },
}

CORRECT = {
    "gradient_update": {
        "data_attribute_like_the_tutorial": """\
import random

import numpy as np
import torch


def gradient_update(loss, params, lr=1e-3):
    for par in params:
        if par.grad is not None:
            par.grad.data.zero_()
    loss.backward()
    for par in params:
        par.data -= lr * par.grad.data
""",
        "grad_set_to_none_and_sub_": """\
import random

import numpy as np
import torch


def gradient_update(loss, params, lr=1e-3):
    for par in params:
        par.grad = None
    loss.backward()
    with torch.no_grad():
        for par in params:
            par.sub_(par.grad, alpha=lr)
""",
        "autograd_grad_without_dot_grad": """\
import random

import numpy as np
import torch


def gradient_update(loss, params, lr=1e-3):
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for par, grad in zip(params, grads):
            par.add_(-lr * grad)
""",
    },
    "momentum_update": {
        "data_attribute_like_the_tutorial": """\
import random

import numpy as np
import torch


def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):
    for par in params:
        if par.grad is not None:
            par.grad.data.zero_()
    loss.backward()
    for par, vel in zip(params, grad_vel):
        vel.data = beta * vel.data - lr * par.grad.data
        par.data += vel.data
""",
        "slice_assignment_and_autograd_grad": """\
import random

import numpy as np
import torch


def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for par, vel, grad in zip(params, grad_vel, grads):
            vel[...] = beta * vel - lr * grad
            par.add_(vel)
""",
        "copy_into_velocity_with_helper_zero_grad": """\
import random

import numpy as np
import torch


def momentum_update(loss, params, grad_vel, lr=1e-3, beta=0.8):
    from helpers.optimization.updates import zero_grad
    zero_grad(params)
    loss.backward()
    with torch.no_grad():
        for par, vel in zip(params, grad_vel):
            vel.copy_(beta * vel - lr * par.grad)
            par.copy_(par + vel)
""",
    },
    "momentum_hyperparameters": {
        "numpy_sorted": """\
import random

import numpy as np
import torch


def momentum_hyperparameters(eigenvalues):
    values = np.sort(np.asarray(eigenvalues, dtype=float))
    mu, big = values[0], values[-1]
    root = np.sqrt(big / mu)
    lr = 4 / (np.sqrt(big) + np.sqrt(mu)) ** 2
    return big / mu, 2 / (big + mu), lr, ((root - 1) / (root + 1)) ** 2
""",
        "math_module_beta_from_eigenvalues": """\
import random

import numpy as np
import torch


def momentum_hyperparameters(eigenvalues):
    import math

    big, mu = max(eigenvalues), min(eigenvalues)
    beta = ((math.sqrt(big) - math.sqrt(mu)) / (math.sqrt(big) + math.sqrt(mu))) ** 2
    return big / mu, 2.0 / (big + mu), 4.0 / (math.sqrt(big) + math.sqrt(mu)) ** 2, beta
""",
    },
    "sample_minibatch": {
        "randperm_without_replacement": """\
import random

import numpy as np
import torch


def sample_minibatch(input_data, target_data, num_points=100):
    indices = torch.randperm(len(input_data))[:num_points]
    return input_data[indices], target_data[indices]
""",
        "numpy_choice_with_replacement": """\
import random

import numpy as np
import torch


def sample_minibatch(input_data, target_data, num_points=100):
    indices = np.random.choice(len(input_data), num_points)
    return input_data[indices], target_data[indices]
""",
        "numpy_choice_without_replacement": """\
import random

import numpy as np
import torch


def sample_minibatch(input_data, target_data, num_points=100):
    indices = np.random.choice(len(input_data), num_points, replace=False)
    return input_data[indices], target_data[indices]
""",
        "python_random_sample": """\
import random

import numpy as np
import torch


def sample_minibatch(input_data, target_data, num_points=100):
    indices = random.sample(range(len(input_data)), num_points)
    return input_data[indices], target_data[indices]
""",
    },
    "rmsprop_update": {
        "fused_addcmul_and_addcdiv": """\
import random

import numpy as np
import torch


def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):
    for par in params:
        if par.grad is not None:
            par.grad.zero_()
    loss.backward()
    with torch.no_grad():
        for par, gsq in zip(params, grad_sq):
            gsq.mul_(alpha).addcmul_(par.grad, par.grad, value=1 - alpha)
            par.addcdiv_(par.grad, (gsq + epsilon).sqrt(), value=-lr)
""",
        "data_attribute_like_the_tutorial": """\
import random

import numpy as np
import torch


def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):
    for par in params:
        if par.grad is not None:
            par.grad.data.zero_()
    loss.backward()
    for par, gsq in zip(params, grad_sq):
        gsq.data = alpha * gsq.data + (1 - alpha) * par.grad.data**2
        par.data -= lr * par.grad.data / (gsq.data + epsilon) ** 0.5
""",
        "rsqrt_and_autograd_grad": """\
import random

import numpy as np
import torch


def rmsprop_update(loss, params, grad_sq, lr=1e-3, alpha=0.8, epsilon=1e-8):
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for par, gsq, grad in zip(params, grad_sq, grads):
            gsq[...] = alpha * gsq + (1 - alpha) * grad * grad
            par -= lr * grad * torch.rsqrt(gsq + epsilon)
""",
    },
}

EXERCISES = (
    "gradient_update",
    "momentum_update",
    "momentum_hyperparameters",
    "sample_minibatch",
    "rmsprop_update",
)
