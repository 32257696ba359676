"""The student-side test kit on a toy assignment: how cases are regenerated, what each check says
about a wrong result, the course's limits, and the speed check's verdicts on a fake clock."""

import dataclasses
import json
import traceback
import types

import numpy as np
import pytest

from autograder.testkit import (
    Cache,
    Call,
    Case,
    Draw,
    Function,
    GradientCheck,
    Linspace,
    Misconception,
    Normal,
    Output,
    PublicTestFailure,
    Published,
    Scalar,
    Speed,
    Suite,
    Yardstick,
    measure,
    pattern,
    position_text,
    read_limits,
    speed_verdict,
    timed,
)

LIMITS = {
    "runtime_factor": 10.0,
    "runtime_repeats": 2,
    "call_cpu_seconds": 5.0,
    "runtime_points": {"scale": 4},
}


class FakeClock:
    """A timer that only moves when a function says it took time."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


CLOCK = FakeClock()
TIMED = (64, 3)  # the size of the timed call


def scale(x, k):
    if x.shape == TIMED:
        CLOCK.advance(1.0)  # the reference takes one yardstick
    return k * x


def is_max(x):
    return x == np.max(x)


def total(x):
    return float(np.sum(x))


def step(x, w):
    h = np.tanh(x @ w)
    return h, (x, w, h)


def step_backward(dh, cache):
    x, w, h = cache
    da = dh * (1 - h**2)
    return da @ w.T, x.T @ da


def keep(A, hp):
    return A * hp["c"], (A, hp)


def run(xs, w):
    caches, hs = [], []
    for t in range(xs.shape[1]):
        h, cache = step(xs[:, t], w)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), tuple(caches)


REFERENCE = types.SimpleNamespace(
    scale=scale, is_max=is_max, total=total, step=step, step_backward=step_backward, keep=keep, run=run
)
STEP_CACHE = Cache(("x", "w", "h"))
CLASSIC_MEAN = 3 * np.random.RandomState(1).randn(4, 2).mean()  # what the classic course would publish
FUNCTIONS = {
    "scale": Function(("x", "k"), ("y",)),
    "is_max": Function(("x",), ("mask",)),
    "total": Function(("x",), (Scalar("s", "sum everything into one number"),)),
    "step": Function(("x", "w"), ("h", STEP_CACHE)),
    "step_backward": Function(("dh", STEP_CACHE), ("dx", "dw"), forward="step"),
    "keep": Function(("A", "hp"), ("B", Cache(("A", "hp"), inputs=True))),
    "run": Function(("xs", "w"), ("hs", Cache(STEP_CACHE.fields, steps=True))),
}
CASES = {
    "scale/classic": Case(
        "scale", "the classic example", {"x": (4, 2)}, [Draw("x"), 3.0], seed=1, legacy=True,
        hint="multiply by k", published=(Published("np.mean(y)", CLASSIC_MEAN),),
    ),
    "is_max/random": Case("is_max", "a random window", {"x": (3, 4)}, [Draw("x")], seed=2),
    "total/random": Case("total", "a random vector", {"x": (5,)}, [Draw("x")], seed=3),
    "step/random": Case(
        "step", "a random step", {"x": (2, 3), "w": Normal((3, 4), 0.5)}, [Draw("x"), Draw("w")], seed=4
    ),
    "step_backward/random": Case(
        "step_backward", "the cache of the random step", {"dh": (2, 4)},
        [Draw("dh"), Output("step/random", -1)], seed=5,
    ),
    "keep/random": Case("keep", "a random A", {"A": (2, 2)}, [Draw("A"), {"c": 2.0}], seed=6),
    "run/random": Case(
        "run", "a random sequence", {"xs": (2, 3, 3), "w": (3, 4)}, [Draw("xs"), Draw("w")], seed=7
    ),
}  # fmt: skip
GRADIENT_CHECKS = {
    "step_backward": GradientCheck({"x": (3, 2), "w": Normal((2, 3), 0.5)}, 8, {"dh": (3, 3)}, 9),
}


def make_suite(folder, limits=LIMITS):
    """The toy assignment in `folder`, its expected values written with the reference."""
    speed = Speed(
        cases={"scale": timed("scale", "x of shape (64, 3)", {"x": TIMED}, [Draw("x"), 2.0])},
        yardstick=Yardstick({}, lambda: CLOCK.advance(1.0)),
        advice="Multiply the whole array at once",
        see="see section 1",
    )
    suite = Suite(
        folder / "public_tests.py",
        assignment="toy",
        functions=FUNCTIONS,
        cases=dict(CASES),
        mutation_advice="Work on a new array",
        shape_advice={"y": "y has the shape of x"},
        gradient_checks=GRADIENT_CHECKS,
        speed=speed,
    )
    suite.clock = CLOCK
    suite.write_expected(REFERENCE)
    if limits is not None:
        (folder / "limits.json").write_text(json.dumps(limits))
    return suite


@pytest.fixture
def suite(tmp_path):
    return make_suite(tmp_path)


def fails(suite, name, target, forward=None):
    """The message of the test of `name` on `target`."""
    with pytest.raises(PublicTestFailure) as failure:
        suite.test(name, target, forward)
    return str(failure.value)


# ---------------------------------------------------------------- inputs


def test_a_legacy_case_draws_what_np_random_seed_and_randn_draw():
    draw = {"a": (4, 4, 3), "W": (4, 4, 3), "b": (1, 1, 1)}
    case = Case("f", "", draw, [Draw("a"), Draw("W"), Draw("b")], seed=1, legacy=True)
    suite = Suite("x/public_tests.py", assignment="t", functions={"f": Function(("a", "W", "b"), ("Z",))},
                  cases={"f/classic": case}, mutation_advice="")  # fmt: skip
    a, W, b = suite.case_inputs("f/classic")[0]
    np.random.seed(1)
    assert all(
        np.array_equal(drawn, np.random.randn(*shape)) for drawn, shape in zip((a, W, b), case.draw.values())
    )
    # ... so the published value of the classic course's conv_single_step holds
    assert np.sum(a * W) + b.item() == pytest.approx(-6.999089450680221, abs=1e-12)


def test_normal_inputs_come_from_one_seeded_generator_in_order_scaled_and_zeroed(suite):
    draw = {
        "x": (2, 3),
        "w": Normal((3,), 0.5),
        "d": Normal((2, 2), zero=np.s_[:, :-1]),
        "l": Linspace(0, 1, 2, 3),
    }
    suite.cases["toy/inputs"] = Case("scale", "", draw, [Draw("x"), Draw("w"), Draw("d"), Draw("l")], seed=3)
    x, w, d, lin = suite.case_inputs("toy/inputs")[0]
    rng = np.random.default_rng(3)
    assert np.array_equal(x, rng.standard_normal((2, 3)))
    assert np.array_equal(w, 0.5 * rng.standard_normal((3,)))
    expected = rng.standard_normal((2, 2))
    expected[:, :-1] = 0.0
    assert np.array_equal(d, expected)
    assert np.array_equal(lin, np.linspace(0, 1, 6).reshape(2, 3))


def test_other_outputs_and_literal_values_as_arguments(suite):
    dh, cache = suite.case_inputs("step_backward/random")[0]
    x, w = suite.case_inputs("step/random")[0]
    assert all(np.array_equal(a, b) for a, b in zip(cache, step(x, w)[1]))
    suite.cases["toy/literal"] = Case("scale", "", {}, [np.ones(2), 1.0])
    suite.case_inputs("toy/literal")[0][0][0] = 5.0  # a test that changes its input...
    assert suite.case_inputs("toy/literal")[0][0][0] == 1.0  # ...does not change the case


def test_expected_values_are_stored_per_output_caches_as_groups_and_input_caches_not_at_all(suite, tmp_path):
    import h5py

    with h5py.File(tmp_path / "public_tests.h5") as file:
        assert "scale/classic/0" in file and "keep/random/0" in file and "keep/random/1" not in file
        assert file["step/random/1"].attrs["length"] == 3
        assert file["run/random/1"].attrs["length"] == 3 and file["run/random/1/0"].attrs["length"] == 3
        assert file["speed"].attrs["scale"] == 1.0  # one yardstick
    h, cache = step(*suite.case_inputs("step/random")[0])
    assert all(np.array_equal(a, b) for a, b in zip(suite.read_expected("step/random", -1), cache))


def test_a_missing_file_of_expected_values_is_named(suite, tmp_path):
    (tmp_path / "public_tests.h5").unlink()
    assert "public_tests.h5 is missing: it must sit next to public_tests.py" in fails(suite, "scale", scale)


# ---------------------------------------------------------------- the checks on right and wrong results


def test_the_reference_passes_every_test(suite, capsys):
    tests = suite.tests()
    assert list(tests) == [f"{name}_test" for name in FUNCTIONS]
    for name, function in FUNCTIONS.items():
        forward = [getattr(REFERENCE, function.forward)] if function.forward else []
        tests[f"{name}_test"](getattr(REFERENCE, name), *forward)
    out = capsys.readouterr().out
    assert "All tests passed. (scale: 1 case)" in out
    assert "(step_backward: 1 case and a gradient check)" in out
    assert "scale is fast enough: about 1.0× the reference's time (limit 10×)" in out


def test_each_function_has_a_test_named_after_it_that_takes_its_forward_pass_if_it_names_one(suite):
    tests = suite.tests()
    assert tests["scale_test"].__name__ == "scale_test"
    assert tests["step_backward_test"].__doc__ == (
        "The public tests of step_backward, as in step_backward_test(step_backward, step)."
    )
    with pytest.raises(TypeError):
        tests["scale_test"](scale, scale)
    with pytest.raises(PublicTestFailure, match="step_backward_test needs your step as second argument"):
        tests["step_backward_test"](step_backward)


def test_a_failure_shows_no_frame_of_the_kit_but_the_test_and_keeps_the_students_own(suite):
    """The notebook shows a failure's frames: the test's entry point only, or, when the student's
    function raised, the student's frames as the cause (the kit's call frame is hidden)."""
    tests = suite.tests()
    with pytest.raises(PublicTestFailure) as wrong:
        tests["scale_test"](lambda x, k: x * (k + 1))
    frames = traceback.extract_tb(wrong.value.__traceback__)
    assert len(frames) == 2 and frames[-1].name == "run"  # this test's call, and the entry point

    def students_code(x, k):
        return x.reshape(3)

    with pytest.raises(PublicTestFailure) as raised:
        tests["scale_test"](students_code)
    cause = raised.value.__cause__
    assert isinstance(cause, ValueError)
    cause_frames = list(traceback.walk_tb(cause.__traceback__))
    assert cause_frames[0][0].f_locals.get("__tracebackhide__") is True  # the kit's call, hidden
    assert "students_code" in [frame.f_code.co_name for frame, _ in cause_frames]
    with pytest.raises(PublicTestFailure) as stub:
        tests["scale_test"](lambda x, k: (_ for _ in ()).throw(NotImplementedError()))
    assert stub.value.__cause__ is None and len(traceback.extract_tb(stub.value.__traceback__)) == 2


def test_the_notebook_shows_the_message_and_only_the_students_own_frames(suite):
    """IPython renders a PublicTestFailure with its _render_traceback_, not its frames."""
    tests = suite.tests()
    with pytest.raises(PublicTestFailure) as stub:
        tests["scale_test"](lambda x, k: (_ for _ in ()).throw(NotImplementedError()))
    said = "scale is not implemented yet: replace `raise NotImplementedError()` with your code"
    assert stub.value._render_traceback_() == [f"PublicTestFailure: {said}"]

    def students_code(x, k):
        return x.reshape(3)

    with pytest.raises(PublicTestFailure) as raised:
        tests["scale_test"](students_code)
    shown = "\n".join(raised.value._render_traceback_())
    assert "students_code" in shown and "return x.reshape(3)" in shown
    assert "autograder/testkit.py" not in shown and shown.count("Error") == 2  # the student's, then ours
    assert shown.splitlines()[-1].startswith("PublicTestFailure: scale raised ValueError with the classic")


def test_a_wrong_shape_is_reported_with_the_advice(suite):
    message = fails(suite, "scale", lambda x, k: k * x[:-1])
    assert (
        message
        == "with the classic example your y has shape (3, 2) but should be (4, 2): y has the shape of x"
    )


def test_a_case_hint_is_said_only_once_an_earlier_case_passed(suite):
    # a case's hint is about what it varies: on the first case any mistake fails, so it says nothing
    assert "hint" not in fails(suite, "scale", lambda x, k: x + 1)
    suite.cases["scale/wide"] = Case(
        "scale", "a wide x", {"x": (2, 7)}, [Draw("x"), 3.0], seed=5, hint="wide"
    )
    suite.write_expected(REFERENCE)
    message = fails(suite, "scale", lambda x, k: k * x if x.shape == (4, 2) else x + 1)
    assert message.startswith("with a wide x your y differs") and message.endswith("; hint: wide")


def test_a_known_mistake_is_named_instead_of_any_hint(suite):
    suite.misconceptions = (
        Misconception("scale", "y", "it multiplies by k + 1", lambda ref, x, k: ref.scale(x, k + 1)),
        Misconception("scale", "y", "it drops the last row", lambda ref, x, k: ref.scale(x, k)[:-1]),
    )
    suite.write_expected(REFERENCE)
    assert fails(suite, "scale", lambda x, k: (k + 1) * x).endswith("; it multiplies by k + 1")
    assert fails(suite, "scale", lambda x, k: k * x[:-1]).endswith("(4, 2); it drops the last row")
    suite.cases["scale/wide"] = Case(
        "scale", "a wide x", {"x": (2, 7)}, [Draw("x"), 3.0], seed=5, hint="wide"
    )
    suite.write_expected(REFERENCE)
    message = fails(suite, "scale", lambda x, k: k * x if x.shape == (4, 2) else (k + 1) * x)
    assert message.endswith("; it multiplies by k + 1")  # not the case's hint


def test_the_numbers_show_when_only_the_first_example_is_right_or_all_are_off_by_a_factor():
    expected = np.arange(1.0, 13.0).reshape(3, 4)
    first_only = expected.copy()
    first_only[1:] = 0
    assert pattern(first_only, expected, ("example", "unit")) == (
        "only example 0 is right, every other example is wrong: does your loop run over all 3 examples, "
        "and does each use its own index?"
    )
    assert (
        pattern(expected / 3, expected)
        == "every value is 0.3333 times the right one: a factor is missing or extra"
    )
    assert pattern(-expected, expected) == "every value has the wrong sign"
    assert pattern(expected + 1, expected, ("example", "unit")) is None
    assert position_text((1, 2), ("example", "unit")) == "example 1, unit 2"


def test_a_wrong_dtype_is_reported(suite):
    assert fails(suite, "is_max", lambda x: (x == x.max()).astype(int)) == (
        "mask should be a boolean array (True and False, such as the result of a comparison), but its dtype "
        "is int64 (with a random window)"
    )
    assert "y should hold float64 numbers, but its dtype is float32: float32 keeps fewer digits" in fails(
        suite, "scale", lambda x, k: (k * x).astype(np.float32)
    )
    assert "should be a numpy array, got a list of 4 elements" in fails(
        suite, "scale", lambda x, k: (k * x).tolist()
    )


def test_wrong_values_name_the_first_position_that_differs(suite):
    def off(x, k):
        y = k * x
        y[2, 1] += 0.5
        return y

    suite.cases["scale/classic"] = dataclasses.replace(CASES["scale/classic"], published=())
    suite.functions["scale"] = dataclasses.replace(FUNCTIONS["scale"], axes={"y": ("example", "feature")})
    message = fails(suite, "scale", off)
    x = suite.case_inputs("scale/classic")[0][0]
    assert message == (
        "with the classic example your y differs from the expected values at 1 of 8 positions; the first "
        f"is y[2, 1] (example 2, feature 1): {3 * x[2, 1] + 0.5:.8g} instead of {3 * x[2, 1]:.8g}"
    )


def test_a_published_value_is_compared_first(suite):
    message = fails(suite, "scale", lambda x, k: x)
    assert message.startswith("with the classic example your np.mean(y) is ")
    assert message.endswith("; every value is 0.3333 times the right one: a factor is missing or extra")


def test_an_input_changed_in_place_is_named_with_its_first_changed_element(suite):
    def in_place(x, k):
        x *= k
        return x

    message = fails(suite, "scale", in_place)
    old = suite.case_inputs("scale/classic")[0][0]
    assert message == (
        "scale changed its input x in place with the classic example: "
        f"x[0, 0] was {old[0, 0]:.8g} and is now {3 * old[0, 0]:.8g}. Work on a new array"
    )

    def changes_hp(A, hp):
        hp["c"] = 3.0
        return A * 2.0, (A, hp)

    assert "hp['c'] was 2.0 and is now 3.0" in fails(suite, "keep", changes_hp)


def test_a_cache_changed_in_place_names_the_element_and_its_position(suite):
    def overwrites(dh, cache):
        result = step_backward(dh, cache)
        cache[2][1, 3] = 0.0
        return result

    message = fails(suite, "step_backward", overwrites, step)
    assert message.startswith(
        "step_backward changed its cache in place with the cache of the random step: "
        "cache[2] (h) is not what it was before the call (h[1, 3] was "
    )
    assert "and is now 0). A cache is read again" in message


def test_a_bad_cache_is_reported_element_by_element(suite):
    assert fails(suite, "step", lambda x, w: (np.tanh(x @ w), (x, w))) == (
        "with a random step the cache must be (x, w, h) (length 3), but yours is a tuple of 2 elements"
    )
    message = fails(suite, "step", lambda x, w: (np.tanh(x @ w), (x, w, x @ w)))
    assert message.startswith("with a random step cache[2] (h) differs from the expected values (h[0, 0] is ")
    assert message.endswith(
        "the cache must be (x, w, h), holding the inputs unchanged and the values the backward pass needs"
    )
    assert fails(suite, "keep", lambda A, hp: (A * 2.0, (hp, A))) == (
        "with a random A cache[0] (A) should be an array of shape (2, 2), got a dict; "
        "the cache must be (A, hp), the inputs of keep unchanged and in this order"
    )

    def short_steps(xs, w):
        hs, caches = run(xs, w)
        return hs, (caches[0], caches[1][:2], caches[2])

    assert fails(suite, "run", short_steps) == (
        "with a random sequence cache[1] must be the tuple (x, w, h), but it is a tuple of 2 elements"
    )
    assert fails(
        suite, "run", lambda xs, w: (run(xs, w)[0], [list(cache) for cache in run(xs, w)[1][:2]])
    ) == (
        "with a random sequence the cache must be a tuple of T step caches, "
        "cache[t] = (x, w, h) of time step t (length 3), but yours is a list of 2 elements"
    )


def test_what_a_function_returns_is_checked_before_its_values(suite):
    assert fails(suite, "step", lambda x, w: np.tanh(x @ w)) == (
        "step must return a tuple (h, cache) of 2 elements, got an array of shape (2, 4)"
    )
    assert fails(suite, "total", lambda x: np.sum(x, keepdims=True)) == (
        "total must return a scalar (one number), but your s is an array of shape (1,): "
        "sum everything into one number"
    )
    assert "your s is 0 but should be" in fails(suite, "total", lambda x: 0.0)


def test_calls_that_fail_are_reported_with_the_case(suite):
    def not_yet(x, k):
        raise NotImplementedError()

    assert fails(suite, "scale", not_yet) == (
        "scale is not implemented yet: replace `raise NotImplementedError()` with your code"
    )
    assert fails(suite, "scale", lambda x, k: x.reshape(3)) == (
        "scale raised ValueError with the classic example: cannot reshape array of size 8 into shape (3,) "
        "(the traceback above shows the line of your code)"
    )
    assert fails(suite, "scale", None) == "scale_test expects your function scale, but got None"


def test_the_gradient_check_compares_with_numeric_gradients_of_the_forward_pass(suite):
    def wrong_dw(dh, cache):
        dx, dw = step_backward(dh, cache)
        return dx, 2 * dw

    calls = []

    def reads_a_counter(dh, cache):
        calls.append(1)
        dx, dw = step_backward(dh, cache)
        return dx, dw * len(calls)

    assert fails(suite, "step_backward", step_backward) == (
        "step_backward_test needs your step as second argument for its gradient check"
    )
    suite.cases.pop("step_backward/random")  # from here on only the gradient check sees the wrong results
    assert fails(suite, "step_backward", wrong_dw, step).startswith(
        "in the gradient check (random inputs: x (3, 2), w (2, 3)) your dw disagrees with the numeric "
        "gradient of your step (relative error 0.33, should be below 1e-06); if the test of step passed, "
        "the mistake is in the dw of step_backward"
    )

    assert fails(suite, "step_backward", reads_a_counter, step) == (
        "calling step_backward twice on the same cache gave two different dw: something changes between the "
        "calls (an array of the cache written in place?)"
    )


def test_a_mistake_in_the_spec_is_a_value_error():
    with pytest.raises(ValueError, match="a case of 'nope'"):
        Suite(
            "x/public_tests.py",
            assignment="t",
            functions={},
            cases={"a": Case("nope", "")},
            mutation_advice="",
        )


# ---------------------------------------------------------------- limits and speed


def test_the_limits_come_from_limits_json(tmp_path):
    path = tmp_path / "limits.json"
    path.write_text(json.dumps(LIMITS))
    limits = read_limits(path)
    assert (limits.runtime_factor, limits.runtime_repeats, limits.runtime_points) == (10.0, 2, {"scale": 4})


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "the course's limits file limits.json is missing: it comes with the assignment, next to "
               "public_tests.py and testkit.py; download the assignment again"),
        ("{not json", "the course's limits file limits.json cannot be read (Expecting property name"),
        ('{"runtime_repeats": 2}', "limits.json must give runtime_factor, a number above 0"),
        ('{"runtime_factor": 10, "runtime_repeats": "2"}',
         "limits.json must give runtime_repeats, an integer >= 0"),
    ],
)  # fmt: skip
def test_missing_or_malformed_limits_are_said_clearly(tmp_path, content, message):
    suite = make_suite(tmp_path, limits=None)
    if content is not None:
        (tmp_path / "limits.json").write_text(content)
    assert message in fails(suite, "scale", scale)
    suite.test("is_max", is_max)  # a function that is not timed needs no limits


def test_speed_verdicts():
    assert speed_verdict(4.0, 1.0, 10) == ("ok", 4.0)
    assert speed_verdict(6.0, 1.0, 10) == ("close", 6.0)
    assert speed_verdict(15.0, 1.0, 10) == ("over", 15.0)
    assert speed_verdict(31.0, 1.0, 10) == ("slow", 31.0)


def taking(seconds, calls):
    def timed(x, k):
        if x.shape == TIMED:
            calls.append(seconds)
            CLOCK.advance(seconds)
        return k * x

    return timed


@pytest.mark.parametrize(
    "seconds, runs, said",
    [
        (2.0, 3, "✅ scale is fast enough: about 2.0× the reference's time (limit 10×)."),
        (7.0, 3, "⚠️ scale is within the limit but close to it: about 7.0× the reference's time (limit 10×, "
                 "its runtime points (4) at stake). The grader's machine may differ: a little more "
                 "vectorization would make it safe (see section 1)."),
        (15.0, 3, "⚠️ scale took about 15× the reference's time on the grader's input size "
                  "(x of shape (64, 3)), over the limit of 10×: as it is, it would likely lose its runtime "
                  "points (4). Vectorize more (see section 1)."),
        (40.0, 2, "scale is correct but far too slow: on the grader's input size (x of shape (64, 3)) it "
                  "takes about 40× the reference's time, and the limit is 10×, so it would lose its runtime "
                  "points (4). Multiply the whole array at once"),
    ],
)  # fmt: skip
def test_the_speed_check_times_against_the_reference_and_the_limit(suite, capsys, seconds, runs, said):
    calls = []
    if seconds > 30:
        assert fails(suite, "scale", taking(seconds, calls)) == said
    else:
        suite.test("scale", taking(seconds, calls))
        assert said in capsys.readouterr().out
    assert len(calls) == runs  # the grader's runtime_repeats + 1 runs, or two when hopeless


class LoadedClock(FakeClock):
    """A machine whose other work slows every run by the factors of `load`, in turn."""

    def __init__(self, load):
        super().__init__()
        self.load = iter(load)

    def run(self, seconds):
        return lambda: self.advance(seconds * next(self.load))


def test_the_reference_is_timed_alongside_so_a_busy_machine_slows_both():
    # one yardstick = 1 s and the reference 2 yardsticks, the call 8 s: 4x the reference, however
    # busy the machine is while they run (each pair of runs slowed alike, by 1 to 6 times)
    clock = LoadedClock([6, 6, 3, 3, 1, 1, 5, 5, 2, 2])
    yardstick = Yardstick({}, clock.run(1.0))
    seconds, reference = measure(clock.run(8.0), yardstick, ratio=2.0, limit=10, runs=3, clock=clock)
    assert seconds / reference == pytest.approx(4.0)


def test_a_hopeless_call_is_confirmed_once_and_a_call_near_the_limit_gets_more_runs():
    clock = FakeClock()
    calls = []

    def call(seconds):
        return lambda: (calls.append(1), clock.advance(seconds))

    yardstick = Yardstick({}, lambda: clock.advance(0.01))
    assert measure(call(0.5), yardstick, 1.0, 10, runs=3, clock=clock)[0] == pytest.approx(0.5)
    assert len(calls) == 2  # 50x the limit twice: hopeless
    calls.clear()
    noisy = iter([0.5, 0.05, 0.05])  # over 3x the limit once, then fast: the first run was noise
    measure(lambda: (calls.append(1), clock.advance(next(noisy))), yardstick, 1.0, 10, 3, clock)
    assert len(calls) == 3
    calls.clear()
    measure(call(0.12), yardstick, 1.0, 10, runs=3, clock=clock, patience=1.0)
    assert len(calls) == 1.0 // 0.13 + 1  # over the limit: runs go on for the patience


def test_the_yardstick_draws_its_arrays_from_seed_0_in_order_and_repeats_its_work():
    seen = []
    yardstick = Yardstick({"a": (2, 3), "b": Normal((4,), 2.0)}, lambda a, b: seen.append((a, b)), repeats=3)
    workload = yardstick.workload()
    assert seen == []
    workload()
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), 2.0 * rng.standard_normal(4)
    assert len(seen) == 3 and all(np.array_equal(x, a) and np.array_equal(y, b) for x, y in seen)


def test_a_timed_call_draws_its_inputs_from_the_timed_seed():
    case = timed("scale", "x of shape (64, 3)", {"x": TIMED}, [Draw("x"), 2.0], {"k": 1})
    assert case == Case("scale", "x of shape (64, 3)", {"x": TIMED}, [Draw("x"), 2.0], {"k": 1}, seed=2024)


def test_a_timed_backward_pass_gets_the_cache_of_the_forward_pass_it_is_given(tmp_path):
    calls = []

    def forward(x, w):
        calls.append("forward")
        return step(x, w)

    suite = make_suite(tmp_path)
    draw = {"x": (3, 2), "w": (2, 3), "dh": (3, 3)}
    suite.speed.cases["step_backward"] = Case(
        "step_backward", "small", draw, [Draw("dh"), Call("step", [Draw("x"), Draw("w")])], seed=11
    )
    args, _ = suite._inputs(suite.speed.cases["step_backward"], suite.read_expected, {"step": forward})
    x, w = args[1][:2]
    assert calls == ["forward"] and np.array_equal(args[1][2], np.tanh(x @ w))
