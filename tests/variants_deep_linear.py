"""Variants of the exercises of notebook 02 (deep linear networks) for the mutation suite.

Data only: ``WRONG[exercise]`` maps a label to a realistic wrong solution cell, ``CORRECT``
to a correct one written differently from the reference. The generic mutation test runs each
through the exercise's hidden check (``helpers.deep_linear.checks.EXERCISES``): every wrong
variant must fail it and every correct one pass.
"""

from __future__ import annotations

import textwrap

ASSIGNMENT = "02_deep_linear_networks"
NOTEBOOK = "deep_linear_networks.ipynb"


def _function(signature: str, body: str) -> str:
    """A solution cell: imports the body needs, then the function."""
    header = "import math\n\nimport numpy as np\nimport torch\nfrom torch import nn\n\n\n"
    return f"{header}{signature}\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")


def _initializer(body: str) -> str:
    return _function("def ex_initializer_(model, gamma=1e-12):", body)


def _half_time(body: str) -> str:
    return _function("def saxe_half_time(s, tau, u0):", body)


def _svd(*parts: str) -> str:
    body = "\n".join(textwrap.dedent(part).strip("\n") for part in parts)
    return _function("def ex_net_svd(model, in_dim):", body)


def _rsm(body: str) -> str:
    return _function("def ex_net_rsm(h):", body)


def _regression(body: str) -> str:
    return _function("def linear_regression(X, Y):", body)


_PRODUCT = """
w_tot = torch.eye(in_dim)
for weight in model.parameters():
    w_tot = weight.detach() @ w_tot
"""

WRONG = {
    "ex_initializer_": {
        "fan_in_only": _initializer("""
            for weight in model.parameters():
                n_out, n_in = weight.shape
                nn.init.normal_(weight, 0.0, gamma / math.sqrt(n_in))
        """),
        "fan_out_only": _initializer("""
            for weight in model.parameters():
                n_out, n_in = weight.shape
                nn.init.normal_(weight, 0.0, gamma / math.sqrt(n_out))
        """),
        "variance_as_std": _initializer("""
            for weight in model.parameters():
                n_out, n_in = weight.shape
                nn.init.normal_(weight, 0.0, gamma**2 / (n_in + n_out))
        """),
        "missing_sqrt": _initializer("""
            for weight in model.parameters():
                n_out, n_in = weight.shape
                nn.init.normal_(weight, 0.0, gamma / (n_in + n_out))
        """),
        "new_parameters": _initializer("""
            for layer in model.modules():
                if isinstance(layer, nn.Linear):
                    n_out, n_in = layer.weight.shape
                    sigma = gamma / math.sqrt(n_in + n_out)
                    layer.weight = nn.Parameter(torch.randn(n_out, n_in) * sigma)
        """),
        "rebinds_loop_variable": _initializer("""
            for weight in model.parameters():
                n_out, n_in = weight.shape
                weight = torch.randn(n_out, n_in) * gamma / math.sqrt(n_in + n_out)
        """),
        "uniform_with_right_std": _initializer("""
            for weight in model.parameters():
                n_out, n_in = weight.shape
                bound = math.sqrt(3.0) * gamma / math.sqrt(n_in + n_out)
                nn.init.uniform_(weight, -bound, bound)
        """),
        "calls_reference": _initializer("""
            from helpers.deep_linear.reference import initializer_
            initializer_(model, gamma)
        """),
        "xavier_normal": _initializer("""
            for weight in model.parameters():
                nn.init.xavier_normal_(weight, gain=gamma / math.sqrt(2.0))
        """),
    },
    "ex_net_svd": {
        "returns_v_transposed": _svd(_PRODUCT, """
            U, S, Vh = torch.linalg.svd(w_tot, full_matrices=False)
            return U, S, Vh
        """),
        "product_in_wrong_order": _svd("""
            weights = [w.detach() for w in model.parameters()]
            w_tot = weights[0]
            for weight in weights[1:]:
                w_tot = w_tot @ weight
            return torch.svd(w_tot)
        """),
        "last_layer_only": _svd("""
            weight = list(model.parameters())[-1].detach()
            return torch.svd(weight)
        """),
        "svd_of_transposed_map": _svd(_PRODUCT, """
            return torch.svd(w_tot.T)
        """),
        "sigma_as_matrix": _svd(_PRODUCT, """
            U, S, V = torch.svd(w_tot)
            return U, torch.diag(S), V
        """),
        "calls_reference": _svd("""
            from helpers.deep_linear.reference import net_svd
            return net_svd(model, in_dim)
        """),
        "calls_total_map": _svd("""
            from helpers.deep_linear.network import total_map
            return torch.svd(total_map(model, in_dim))
        """),
        "full_matrices_despite_reduced_convention": _svd(_PRODUCT, """
            U, S, Vh = torch.linalg.svd(w_tot)
            return U, S, Vh.T
        """),
        "numpy_vh_for_v": _svd(_PRODUCT, """
            U, S, Vh = np.linalg.svd(w_tot.numpy(), full_matrices=False)
            return torch.from_numpy(U), torch.from_numpy(S), torch.from_numpy(Vh)
        """),
    },
    "saxe_half_time": {
        "midpoint_approximation": _half_time("return tau / (2 * s) * math.log(s / u0)"),
        "missing_factor_two": _half_time("return tau / s * math.log(s / u0 - 1)"),
        "plus_one_instead_of_minus_one": _half_time("return tau / (2 * s) * math.log(s / u0 + 1)"),
        "base_ten_logarithm": _half_time("return tau / (2 * s) * math.log10(s / u0 - 1)"),
        "tau_and_s_swapped": _half_time("return s / (2 * tau) * math.log(s / u0 - 1)"),
        "calls_reference": _half_time("""
            from helpers.deep_linear.reference import saxe_half_time as reference
            return reference(s, tau, u0)
        """),
    },
    "ex_net_rsm": {
        "h_transpose_h": _rsm("return h.T @ h"),
        "cosine_similarity": _rsm("""
            unit = h / h.norm(dim=1, keepdim=True)
            return unit @ unit.T
        """),
        "elementwise_square": _rsm("return h * h"),
        "covariance": _rsm("return torch.cov(h)"),
        "averaged_over_units": _rsm("return h @ h.T / h.shape[1]"),
        "calls_reference": _rsm("""
            from helpers.deep_linear.reference import net_rsm
            return net_rsm(h)
        """),
    },
    "linear_regression": {
        "missing_inverse": _regression("return Y @ X.T @ (X @ X.T)"),
        "no_normalisation": _regression("return Y @ X.T"),
        "inverse_on_wrong_side": _regression("return np.linalg.inv(X @ X.T) @ X @ Y.T"),
        "transposed_result": _regression("return (Y @ X.T @ np.linalg.inv(X @ X.T)).T"),
        "elementwise_division": _regression("return Y @ X.T / (X @ X.T)"),
        "calls_reference": _regression("""
            from helpers.deep_linear.reference import linear_regression as reference
            return reference(X, Y)
        """),
    },
}

CORRECT = {
    "ex_initializer_": {
        "data_normal_": _initializer("""
            for weight in model.parameters():
                fan_sum = weight.shape[0] + weight.shape[1]
                weight.data.normal_(0.0, gamma / fan_sum**0.5)
        """),
        "copy_under_no_grad": _initializer("""
            with torch.no_grad():
                for name, weight in model.named_parameters():
                    n_out, n_in = weight.size()
                    weight.copy_(torch.randn_like(weight) * gamma / math.sqrt(n_in + n_out))
        """),
        "fans_from_torch": _initializer("""
            for weight in model.parameters():
                fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(weight)
                nn.init.normal_(weight, std=gamma / math.sqrt(fan_in + fan_out))
        """),
        "normal_under_no_grad": _initializer("""
            with torch.no_grad():
                for weight in model.parameters():
                    n_out, n_in = weight.shape
                    weight.normal_(mean=0.0, std=gamma * (n_in + n_out) ** -0.5)
        """),
    },
    "ex_net_svd": {
        "linalg_svd_transposed": _svd(_PRODUCT, """
            U, S, Vh = torch.linalg.svd(w_tot, full_matrices=False)
            return U, S, Vh.T
        """),
        "linalg_svd_mH": _svd(_PRODUCT, """
            U, S, Vh = torch.linalg.svd(w_tot, full_matrices=False)
            return U, S, Vh.mH
        """),
        "reduce_and_flip_signs": _svd("""
            import functools
            weights = [w.detach() for w in model.parameters()]
            w_tot = functools.reduce(lambda total, w: w @ total, weights)
            U, S, V = torch.svd(w_tot)
            return -U, S, -V
        """),
        "numpy_svd": _svd(_PRODUCT, """
            U, S, Vh = np.linalg.svd(w_tot.numpy(), full_matrices=False)
            return torch.from_numpy(U), torch.from_numpy(S), torch.from_numpy(Vh.T.copy())
        """),
    },
    "saxe_half_time": {
        "numpy_log_of_a_ratio": _half_time("return tau * np.log((s - u0) / u0) / (2 * s)"),
        "log_difference": _half_time("""
            x = math.log(s - u0) - math.log(u0)
            return x * tau / (2.0 * s)
        """),
    },
    "ex_net_rsm": {
        "einsum": _rsm('return torch.einsum("ik,jk->ij", h, h)'),
        "matmul_transpose": _rsm("return torch.matmul(h, h.transpose(0, 1))"),
        "mm_t": _rsm("return torch.mm(h, h.t())"),
    },
    "linear_regression": {
        "solve": _regression("return np.linalg.solve(X @ X.T, X @ Y.T).T"),
        "lstsq": _regression("return np.linalg.lstsq(X.T, Y.T, rcond=None)[0].T"),
        "pinv": _regression("return Y @ np.linalg.pinv(X)"),
        "pinv_of_sample_gram": _regression("return Y @ np.linalg.pinv(X.T @ X) @ X.T"),
    },
}

EXERCISES = tuple(WRONG)
