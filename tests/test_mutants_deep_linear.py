"""Mutation suite for notebook 02 (deep linear networks), graded by the real nbgrader autograde.

For each exercise: realistic wrong implementations must lose points on its ``test_<name>``
cells, correct implementations written differently from the reference must earn all of them,
and a submission that solves only that exercise earns exactly its points. Tests of one exercise
depend only on that exercise, so one submission can carry a variant of every exercise at once:
``wrong_3`` holds the third wrong version of each exercise. That keeps the number of graded
notebooks (and the suite's time) small.
"""

from __future__ import annotations

import textwrap

import mutants  # the lead's harness; imported as a module so pytest does not collect its helpers
import pytest

ASSIGNMENT = "02_deep_linear_networks"
NOTEBOOK = "deep_linear_networks.ipynb"


def _function(signature: str, body: str) -> str:
    """A solution cell: imports the body needs, then the function."""
    header = "import math\n\nimport numpy as np\nimport torch\nfrom torch import nn\n\n\n"
    return f"{header}{signature}\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")


def _initializer(body: str) -> str:
    return _function("def ex_initializer_(model, gamma=1e-12):", body)


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
            from helpers.linear import initializer_
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
            from helpers.linear import net_svd
            return net_svd(model, in_dim)
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
            from helpers.linear import net_rsm
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
            from helpers.linear import linear_regression as reference
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

EXERCISES = list(WRONG)


def _combined(kind: dict[str, dict[str, str]], prefix: str) -> tuple[dict, dict]:
    """Variant ``prefix_i`` carries the i-th version of every exercise that has one."""
    variants, labels = {}, {}
    for index in range(max(len(versions) for versions in kind.values())):
        name = f"{prefix}_{index}"
        variants[name] = {}
        for exercise, versions in kind.items():
            if index < len(versions):
                label = list(versions)[index]
                variants[name][exercise] = versions[label]
                labels[(exercise, label)] = name
    return variants, labels


WRONG_VARIANTS, WRONG_LABELS = _combined(WRONG, "wrong")
CORRECT_VARIANTS, CORRECT_LABELS = _combined(CORRECT, "correct")


@pytest.fixture(scope="module")
def grades() -> dict[str, dict[str, float]]:
    variants = {**WRONG_VARIANTS, **CORRECT_VARIANTS, "untouched": {}}
    for exercise in EXERCISES:
        variants[f"only_{exercise}"] = {
            exercise: mutants.solution_source(ASSIGNMENT, NOTEBOOK, exercise)
        }
    return mutants.grade_variants(ASSIGNMENT, NOTEBOOK, variants)


@pytest.fixture(scope="module")
def full_points() -> dict[str, float]:
    cells = mutants.test_cell_points(ASSIGNMENT, NOTEBOOK)
    return {exercise: mutants.exercise_points(cells, exercise) for exercise in EXERCISES}


def test_every_exercise_has_at_least_four_wrong_and_two_correct_variants():
    for exercise in EXERCISES:
        assert len(WRONG[exercise]) >= 4 and len(CORRECT[exercise]) >= 2, exercise


@pytest.mark.parametrize(("exercise", "label"), sorted(WRONG_LABELS))
def test_wrong_implementation_loses_points(grades, full_points, exercise, label):
    earned = mutants.exercise_points(grades[WRONG_LABELS[(exercise, label)]], exercise)
    assert earned < full_points[exercise], f"{exercise}/{label} earned {earned}"


@pytest.mark.parametrize(("exercise", "label"), sorted(CORRECT_LABELS))
def test_correct_implementation_written_differently_earns_all_points(
    grades, full_points, exercise, label
):
    earned = mutants.exercise_points(grades[CORRECT_LABELS[(exercise, label)]], exercise)
    assert earned == full_points[exercise], f"{exercise}/{label} earned {earned}"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_solving_only_one_exercise_earns_exactly_its_points(grades, full_points, exercise):
    cells = grades[f"only_{exercise}"]
    assert mutants.exercise_points(cells, exercise) == full_points[exercise]
    assert sum(cells.values()) == full_points[exercise]


def test_untouched_release_earns_nothing(grades):
    assert sum(grades["untouched"].values()) == 0
