"""Demos of notebook 04, and every number its text states about them.

The claims are checked on the default data with the reference rules, which is what a student
whose exercises pass sees too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from helpers.rules import demos
from helpers.rules.affine import Affine, affine_data, fit
from helpers.rules.protocol import Descent, Momentum
from helpers.rules.reference import Adagrad, Adam, AdamW, Nesterov
from helpers.widgets import SKIPPED_WHILE_GRADING

REFERENCE = {"Nesterov": Nesterov, "Adagrad": Adagrad, "Adam": Adam}


@pytest.fixture(scope="module")
def descent_run():
    inputs, targets, truth = affine_data()
    state, model, log = fit(Descent(0.1), Affine(), inputs, targets, n_epochs=500)
    return model, log, truth


def test_section3_loss_halves_about_every_50_epochs_and_ends_below_2e_5(descent_run):
    _, log, _ = descent_run
    assert [epoch for epoch, _ in log] == list(range(50, 501, 50))
    losses = [loss for _, loss in log]
    ratios = [a / b for a, b in zip(losses, losses[1:])]
    assert all(1.8 < ratio < 3.0 for ratio in ratios), ratios
    assert losses[-1] < 2e-5


def test_section3_learned_w_agrees_with_the_true_w_to_two_decimals(descent_run):
    model, _, truth = descent_run
    assert (model.W - truth.W).abs().max().item() < 0.01


def test_section4_an_unregistered_bias_never_moves_and_the_loss_stalls_near_0_03():
    inputs, targets, _ = affine_data()
    model = Affine(register_bias=False)
    b_before = model.b.clone()
    state, model, log = fit(Descent(0.1), model, inputs, targets, n_epochs=500)
    assert list(state) == ["W"]
    assert torch.equal(model.b, b_before)
    assert 0.02 < log[-1][1] < 0.04


@pytest.fixture(scope="module")
def decay():
    return demos.weight_decay_comparison(namespace={"Adam": Adam, "AdamW": AdamW})


def test_section5_l2_in_adam_lands_on_the_penalized_minimum(decay):
    expected = decay["minimum of loss + L2 penalty"]
    assert np.allclose(expected, [100 / 102, 1 / 3, 0.01 / 2.01])
    assert np.allclose(decay["Adam + L2 penalty"], expected, atol=1e-3)
    assert np.allclose(decay["Adam, no decay"], 1.0)


def test_section5_adamw_settles_every_coordinate_near_the_same_value_about_0_54(decay):
    values = decay["AdamW"]
    assert values.max() - values.min() < 0.01
    assert 0.52 < values.mean() < 0.56
    assert values.min() > 1 / 2.0, "the fixed point is approached from above 1/lambda"


@pytest.fixture(scope="module")
def rosenbrock():
    rules = demos.default_rules(REFERENCE, lr_plain=1e-3, lr_adaptive=0.1, beta=0.9)
    return {
        name: losses[-1]
        for name, (_, losses) in demos.compare_rules("Rosenbrock", rules, steps=300).items()
    }


def test_section7_on_rosenbrock_nesterov_is_closest_then_momentum_then_adam(rosenbrock):
    ranking = sorted(rosenbrock, key=rosenbrock.get)
    assert ranking[:3] == ["Nesterov", "Momentum", "Adam"]
    assert rosenbrock["Descent"] > 4, "descent barely moves along the valley"
    assert rosenbrock["Adam"] < min(rosenbrock["RMSProp"], rosenbrock["Adagrad"])


def _final_quadratic_loss(rule, steps=300):
    _, losses = demos.optimize_2d("ill-conditioned quadratic", rule, steps)
    return losses[-1], losses[0]


def test_section7_task1_descent_converges_at_0_0398_and_diverges_at_0_05():
    final, start = _final_quadratic_loss(Descent(10**-1.4))
    assert final < start
    final, start = _final_quadratic_loss(Descent(10**-1.3))
    assert not math.isfinite(final) or final > start


def test_section7_task2_momentum_beats_descent_at_0_01_and_adaptive_rules_converge_at_0_1():
    rules = demos.default_rules(REFERENCE, lr_plain=0.01, lr_adaptive=0.1, beta=0.9)
    losses = {name: _final_quadratic_loss(rule)[0] for name, rule in rules.items()}
    assert losses["Momentum"] < 1e-6 * losses["Descent"]
    assert losses["RMSProp"] < 1e-6 and losses["Adam"] < 1e-6


def test_section7_task1_nesterov_diverges_first_and_momentum_last():
    lr = 10**-1.5  # the slider value below 0.0398
    assert not math.isfinite(_final_quadratic_loss(Nesterov(lr, 0.9))[0])
    assert _final_quadratic_loss(Descent(lr))[0] < 1e-6
    for lr in (10**-1.3, 10**-1.2):
        assert _final_quadratic_loss(Momentum(lr, 0.9))[0] < 1e-6
    assert not math.isfinite(_final_quadratic_loss(Momentum(10**-1.1, 0.9))[0])


def test_section7_task3_momentum_beta_0_stalls_0_9_follows_0_99_overshoots():
    final = {
        b: demos.optimize_2d("Rosenbrock", Momentum(1e-3, b), 300)[1][-1] for b in (0.0, 0.9, 0.99)
    }
    assert final[0.0] > 4 and 0.02 < final[0.9] < 0.05 and 0.1 < final[0.99] < 0.3


def test_section7_task3_at_beta_0_99_nesterov_diverges_and_adam_whose_beta1_follows_ends_near_1_4():
    """Task 3 (momentum family at 1e-3): "beta = 0.99 ... Nesterov diverges"; "Adam ends near
    0.25 at beta = 0.9 and near 1.4 at 0.99" (tolerance: 0.2 to 0.3, 1.2 to 1.6)."""
    final = {}
    for beta in (0.9, 0.99):
        rules = demos.default_rules(REFERENCE, lr_plain=1e-3, lr_adaptive=0.1, beta=beta)
        assert rules["Adam"].beta1 == beta
        results = demos.compare_rules("Rosenbrock", rules, 300)
        final[beta] = {name: losses for name, (_, losses) in results.items()}
    assert demos.loss_diverged_at(final[0.99]["Nesterov"]) is not None
    assert demos.loss_diverged_at(final[0.9]["Nesterov"]) is None
    assert 0.2 < final[0.9]["Adam"][-1] < 0.3 and 1.2 < final[0.99]["Adam"][-1] < 1.6


def test_section7_task3_at_the_sliders_default_rate_the_momentum_family_diverges_on_rosenbrock():
    """Task 3: "at the slider's default, 0.01, the whole momentum family diverges there"."""
    for beta in (0.0, 0.9, 0.99):
        rules = demos.default_rules(REFERENCE, lr_plain=0.01, lr_adaptive=0.1, beta=beta)
        results = demos.compare_rules("Rosenbrock", rules, 300)
        for name in ("Descent", "Momentum", "Nesterov"):
            assert demos.loss_diverged_at(results[name][1]) is not None, (beta, name)


@pytest.mark.parametrize(
    ("function", "lr_plain"), [("Rosenbrock", 1e-3), ("ill-conditioned quadratic", 0.01)]
)
def test_section7_task4_every_rule_ends_higher_with_a_decaying_schedule(function, lr_plain):
    rules = demos.default_rules(REFERENCE, lr_plain=lr_plain, lr_adaptive=0.1, beta=0.9)
    constant = demos.compare_rules(function, rules, 300)
    for schedule in ("step", "cosine", "warm-up + cosine"):
        scheduled = demos.compare_rules(function, rules, 300, schedule)
        for name in rules:
            assert scheduled[name][1][-1] > constant[name][1][-1], (schedule, name)


def test_section7_task4_warm_up_rescues_descent_at_a_rate_too_large_for_rosenbrock():
    assert not math.isfinite(demos.optimize_2d("Rosenbrock", Descent(0.01), 300)[1][-1])
    final = demos.optimize_2d("Rosenbrock", Descent(0.01), 300, "warm-up + cosine")[1][-1]
    assert math.isfinite(final) and final < 1


def test_optimize_2d_returns_the_start_and_one_point_per_step():
    path, losses = demos.optimize_2d("Rosenbrock", Descent(1e-3), steps=20, schedule="cosine")
    assert path.shape == (21, 2) and losses.shape == (21,)
    assert tuple(path[0]) == demos.FUNCTIONS["Rosenbrock"].start


@pytest.mark.parametrize("name", demos.SCHEDULES)
def test_relative_schedules_start_at_one_and_never_exceed_it(name):
    factor = demos.relative_schedule(name, 100)
    values = [factor(t) for t in range(100)]
    assert max(values) <= 1 + 1e-12
    assert values[0] == 1 or name == "warm-up + cosine"


def test_unknown_schedule_is_refused():
    with pytest.raises(ValueError):
        demos.relative_schedule("exponential", 10)


def test_plot_functions_return_figures():
    results = demos.compare_rules("ill-conditioned quadratic", {"Descent": Descent(0.01)}, 20)
    assert isinstance(demos.plot_paths("ill-conditioned quadratic", results), Figure)
    assert isinstance(demos.plot_schedules(50), Figure)
    decay = {"AdamW": np.ones(3), "Adam": np.zeros(3)}
    assert isinstance(demos.plot_weight_decay(decay, (1.0, 2.0, 3.0)), Figure)


def test_demo_uses_the_students_rule_once_it_is_done_and_says_so(capsys):
    exercises = demos.exercise_rules({"Adam": Adam})
    demos.default_rules(exercises, 1e-3, 0.1, 0.9)
    assert exercises["Adam"].describe() == "This run used your `Adam`."
    assert "not done yet" in exercises["Nesterov"].describe()


def test_widget_is_skipped_while_grading(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert demos.rules_widget({}) is None
    assert SKIPPED_WHILE_GRADING in capsys.readouterr().out


def test_widget_builds_and_runs_once_outside_grading(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    box = demos.rules_widget({})
    assert box is not None and len(box.children) == 3


def test_the_momentum_familys_rate_slider_runs_from_1e_4_to_0_1_in_tenths_of_a_decade_from_0_01(
    monkeypatch,
):
    """Task 1 and 3 quote slider values (0.0251, 0.0316, ..., the default 0.01), and
    ``test_rules_claims.SLIDER`` lists them: the slider must be that one."""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    controls = {c.description: c for c in demos.rules_widget({}).children[0].children}
    slider = controls["lr (Descent, momentum)"]
    assert (slider.base, slider.min, slider.max, slider.step) == (10, -4, -1, 0.1)
    assert slider.value == pytest.approx(0.01)


@pytest.mark.parametrize("name", list(demos.FUNCTIONS))
def test_each_test_functions_hand_written_gradient_matches_autograd(name):
    test = demos.FUNCTIONS[name]
    points = (torch.rand(50, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
              * 6 - 3).requires_grad_(True)
    (expected,) = torch.autograd.grad(test.function(points).sum(), points)
    torch.testing.assert_close(test.gradient(points.detach()), expected)


def test_the_demo_names_each_rule_that_diverged_and_says_nothing_of_the_others():
    rules = demos.default_rules(REFERENCE, lr_plain=0.01, lr_adaptive=0.1, beta=0.9)
    results = demos.compare_rules("Rosenbrock", rules, 300)
    sentences = {name: demos.divergence_sentence(name, losses) for name, (_, losses) in
                 results.items()}
    step = demos.loss_diverged_at(results["Descent"][1])
    assert sentences["Descent"] == (
        f"Descent diverged at step {step}: its learning rate is too large here."
    )
    assert sentences["Adam"] is None


# --------------------------------------------------------------------------------------
# Section 8: schedules against minibatch noise
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def race():
    """The race the notebook runs: the reference Adam at 0.05, the demo's defaults."""
    return demos.schedule_race(Adam(lr=0.05))


def _at_step(race, name: str, step: int) -> float:
    return float(race.excess[name][list(race.measured_at).index(step)])


def test_section8_the_least_squares_fit_of_the_noisy_data_is_about_0_49(race):
    assert round(race.best, 2) == 0.49


def test_section8_the_constant_rate_is_at_0_0087_after_100_steps_and_ends_around_0_019(race):
    assert round(_at_step(race, "constant", 100), 4) == 0.0087
    assert round(race.final("constant"), 3) == 0.019


def test_section8_a_tenth_of_the_rate_ends_at_0_0025_but_is_at_0_054_six_times_higher_at_100(
    race,
):
    slow = _at_step(race, "constant, lr / 10", 100)
    assert round(race.final("constant, lr / 10"), 4) == 0.0025
    assert round(slow, 3) == 0.054
    assert round(slow / _at_step(race, "constant", 100)) == 6


def test_section8_step_cosine_and_warm_up_end_at_0_0013_0_00098_0_00096_20_times_below_constant(
    race,
):
    assert round(race.final("step"), 4) == 0.0013
    assert round(race.final("cosine"), 5) == 0.00098
    assert round(race.final("warm-up + cosine"), 5) == 0.00096
    assert round(race.final("constant") / race.final("warm-up + cosine")) == 20
    decaying = ("step", "cosine", "warm-up + cosine")
    assert all(race.final(name) < race.final("constant, lr / 10") for name in decaying)
    assert demos.race_sentence(race) == (
        "warm-up + cosine ends lowest, at an excess loss of 0.00096, 20 times below the "
        "constant rate."
    )


def test_section8_every_run_starts_from_the_same_point_on_the_same_minibatches(race):
    """The constant rate and step decay agree until the first decay, a third of the way."""
    first_decay = 1000 // 3
    same = race.measured_at <= first_decay
    np.testing.assert_array_equal(race.excess["constant"][same], race.excess["step"][same])


def test_section8_task1_without_noise_constant_step_and_cosine_reach_the_minimum():
    race = demos.schedule_race(Adam(lr=0.05), noise=0.0)
    for name in ("constant", "step", "cosine"):
        assert race.final(name) < 1e-12, name
    assert round(race.final("constant, lr / 10"), 5) == 0.00004
    assert demos.race_sentence(race) == (
        "constant, step and cosine reach the least-squares minimum to within rounding errors "
        "(an excess loss below 1e-12). With no noise left at the minimum, the constant rate "
        "needs no schedule."
    )


def test_section8_task2_a_batch_of_64_lowers_the_constant_rate_to_0_0052_cosine_37_times_lower(
    race,
):
    larger = demos.schedule_race(Adam(lr=0.05), batch_size=64)
    assert round(larger.final("constant"), 4) == 0.0052
    assert round(larger.final("cosine"), 5) == 0.00014
    assert round(larger.final("constant") / larger.final("cosine")) == 37
    assert min(demos.RACE_SCHEDULES, key=larger.final) == "cosine"


def test_section8_task3_momentum_at_1_diverges_but_at_a_tenth_and_warm_up_only_delays_it():
    race = demos.schedule_race(Momentum(lr=1.0, beta=0.9))
    steps = {name: race.diverged_at(name) for name in demos.RACE_SCHEDULES}
    assert steps["constant, lr / 10"] is None
    assert all(steps[name] <= 80 for name in ("constant", "step", "cosine"))
    assert steps["warm-up + cosine"] == 190
    sentence = demos.race_sentence(race)
    assert sentence.startswith("constant, lr / 10 ends lowest, at an excess loss of ")
    assert "warm-up + cosine diverged at step 190: its rate is too large here." in sentence


def test_race_sentence_when_the_constant_rate_wins_names_no_schedule():
    race = demos.ScheduleRace(
        measured_at=np.arange(1, 11),
        excess={name: np.full(10, 0.01 if name == "constant" else 0.02)
                for name in demos.RACE_SCHEDULES},
        best=0.5,
    )
    assert demos.race_sentence(race) == (
        "constant ends lowest, at an excess loss of 0.01: here no schedule beats the constant "
        "rate."
    )


def test_race_sentence_when_every_run_blew_up_names_each_one():
    blown = np.array([0.1, np.nan, np.nan])
    race = demos.ScheduleRace(np.array([10, 20, 30]),
                              {name: blown for name in demos.RACE_SCHEDULES}, best=0.5)
    assert demos.race_sentence(race) == " ".join(
        f"{name} diverged at step 20: its rate is too large here." for name in demos.RACE_SCHEDULES
    )


def test_the_race_uses_the_students_warm_up_and_says_so(capsys):
    calls = []

    def warmup(after, steps, start_factor=0.1):
        calls.append(steps)
        return demos.warmup(after, steps, start_factor)

    warm_up = demos.student_warmup({"warmup": warmup})
    demos.schedule_race(Adam(lr=0.05), steps=200, warm_up=warm_up)
    assert calls == [20] and warm_up.describe() == "This run used your `warmup`."


def test_the_rules_demo_uses_the_students_warm_up_for_warm_up_and_cosine():
    calls = []

    def warmup(after, steps, start_factor=0.1):
        calls.append(steps)
        return demos.warmup(after, steps, start_factor)

    rules = {"Descent": Descent(1e-3)}
    demos.compare_rules("Rosenbrock", rules, 50, "warm-up + cosine", warmup)
    assert calls == [5]


def test_race_rule_is_the_students_adam_or_the_given_momentum():
    assert isinstance(demos.race_rule("Adam", 0.1, Adam), Adam)
    assert demos.race_rule("Momentum", 0.1, Adam) == Momentum(lr=0.1, beta=0.9)
    with pytest.raises(ValueError):
        demos.race_rule("Lion", 0.1, Adam)


def test_plot_schedule_race_returns_a_figure_also_when_a_run_diverged():
    race = demos.schedule_race(Momentum(lr=1.0, beta=0.9), steps=200)
    assert isinstance(demos.plot_schedule_race(race, "diverging"), Figure)


def test_schedules_widget_is_skipped_while_grading(monkeypatch, capsys):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert demos.schedules_widget({}) is None
    assert SKIPPED_WHILE_GRADING in capsys.readouterr().out


def test_schedules_widget_builds_with_the_notebooks_defaults_and_runs_once(monkeypatch):
    """The text's numbers are the widget's defaults: Adam, 0.05, batch 8, noise 0.5, 1000."""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    box = demos.schedules_widget({})
    controls = {c.description: c.value for c in box.children[0].children}
    assert controls == {"rule": "Adam", "base lr": 0.05, "batch size": 8, "label noise": 0.5,
                        "steps": 1000}


def test_section8_task3_a_rate_of_1_is_just_below_momentums_limit_1_06_for_the_whole_data():
    inputs, _ = demos.noisy_affine_data(0.5)
    with_ones = torch.cat([inputs, torch.ones(len(inputs), 1, dtype=torch.float64)], dim=1)
    hessian = 2 * with_ones.T @ with_ones / len(inputs)  # per output of the mean loss
    limit = 2 * (1 + 0.9) / torch.linalg.eigvalsh(hessian)[-1].item()
    assert round(limit, 2) == 1.06


@pytest.mark.parametrize("batch_size", [32, 64, 128, 256])
def test_section8_task3_with_minibatches_of_32_or_more_no_run_diverges_at_1(batch_size):
    race = demos.schedule_race(Momentum(lr=1.0, beta=0.9), batch_size=batch_size)
    assert all(race.diverged_at(name) is None for name in demos.RACE_SCHEDULES)


@pytest.mark.parametrize("noise", [0.0, 1.0])
@pytest.mark.parametrize("steps", [200, 3000])
def test_momentum_at_1_on_minibatches_of_1_diverges_whatever_the_other_controls(noise, steps):
    """The setting the browser test uses to see the demo name a divergence."""
    race = demos.schedule_race(Momentum(lr=1.0, beta=0.9), steps, 1, noise)
    assert race.diverged_at("constant") is not None
    assert "constant diverged at step " in demos.race_sentence(race)
