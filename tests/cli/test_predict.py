"""``python -m cogrt predict`` / ``train`` as a user runs them: a subprocess, stdout and
stderr apart, files written to the working directory."""

from __future__ import annotations

import subprocess
from pathlib import Path

import msgspec
import pytest

from tests.support.cli_process import run_cogrt
from tests.support.predictors import PredictorFolder

MODELS = PredictorFolder(Path(__file__).resolve().parent / "predictors")
image = MODELS.load("image")


def cogrt(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return run_cogrt(cwd, *args, supervise=False, **env)


def test_an_image_output_is_written_byte_identical(tmp_path: Path) -> None:
    done = cogrt(tmp_path, "predict", MODELS.ref("image"), "-i", "size=300", "-i", "red=7")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "output.png").read_bytes() == image.png(300, 7)
    assert done.stdout == b""  # the file is the result; no base64 on the terminal
    stderr = done.stderr.decode()
    assert "Written output to: output.png" in stderr
    assert "loading weights" in stderr and "painting a 300x300 square" in stderr


def test_dash_o_chooses_the_path_and_lists_are_numbered(tmp_path: Path) -> None:
    done = cogrt(tmp_path, "predict", MODELS.ref("image"), "-i", "size=5", "-o", "out/sq.png")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "sq.png").read_bytes() == image.png(5, 255)
    many = cogrt(tmp_path, "predict", MODELS.ref("image", "Many"), "-i", "count=2")
    assert many.returncode == 0, many.stderr
    for i in range(2):
        assert (tmp_path / f"output.{i}.png").read_bytes() == image.png(4, i)


def test_stdout_carries_only_the_result(tmp_path: Path) -> None:
    """Model prints (stdout and stderr) and cogrt's logs all go to stderr; a string is raw."""
    done = cogrt(tmp_path, "predict", MODELS.ref("text", "Echo"), "-i", "text=ab", "-i", "times=2")
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"abab\n"
    assert b"a print from the model" in done.stderr and b"to stderr" in done.stderr


def test_other_values_print_as_json_and_repeats_make_a_list(tmp_path: Path) -> None:
    ref = MODELS.ref("text", "Counts")
    done = cogrt(tmp_path, "predict", ref, "-i", "words=ab", "-i", "words=xyz")
    assert done.returncode == 0, done.stderr
    assert msgspec.json.decode(done.stdout) == {"ab": 2, "xyz": 3}
    single = cogrt(tmp_path, "predict", ref, "-i", "words=solo")
    assert msgspec.json.decode(single.stdout) == {"solo": 4}


def test_an_iterator_prints_its_chunks_as_a_json_list_like_cog(tmp_path: Path) -> None:
    """cog predict shows an iterator's output (a ConcatenateIterator's too) as a JSON array."""
    done = cogrt(tmp_path, "predict", MODELS.ref("text", "Tokens"), "-i", "prompt=hello big world")
    assert done.returncode == 0, done.stderr
    assert msgspec.json.decode(done.stdout) == ["hello ", "big ", "world "]
    assert b'  "hello ",\n' in done.stdout  # indented, as Cog's CLI prints it
    assert b"thinking" in done.stderr
    lines = cogrt(tmp_path, "predict", MODELS.ref("text", "Lines"), "-i", "n=3")
    assert (lines.returncode, msgspec.json.decode(lines.stdout)) == (0, [0, 1, 2])


def test_dash_o_writes_a_value_that_is_not_a_file(tmp_path: Path) -> None:
    done = cogrt(tmp_path, "predict", MODELS.ref("text", "Echo"), "-i", "text=ab", "-o", "a.txt")
    assert (done.returncode, done.stdout) == (0, b""), done.stderr
    assert (tmp_path / "a.txt").read_text() == "ab"
    assert b"Written output to: a.txt" in done.stderr


def test_no_output_is_a_warning_not_an_error(tmp_path: Path) -> None:
    done = cogrt(tmp_path, "predict", MODELS.ref("text", "Nothing"))
    assert (done.returncode, done.stdout) == (0, b""), done.stderr
    assert b"No output generated" in done.stderr


def test_json_takes_the_inputs_as_cog_predict_json_does(tmp_path: Path) -> None:
    ref = MODELS.ref("text", "Echo")
    (tmp_path / "in.json").write_text('{"text": "ab", "times": 2}')
    for source, stdin in (
        ('{"text": "ab", "times": 2}', None),
        ("@in.json", None),
        ("-", b'{"text": "ab", "times": 2}'),
        ("@-", b'{"text": "ab", "times": 2}'),
    ):
        done = run_cogrt(tmp_path, "predict", ref, "--json", source, supervise=False, stdin=stdin)
        assert done.returncode == 0, done.stderr
        prediction = msgspec.json.decode(done.stdout)
        assert (prediction["status"], prediction["output"]) == ("succeeded", "abab")
        assert b'"status": "succeeded"' in done.stdout  # Cog's indented form
    written = cogrt(tmp_path, "predict", ref, "--json", '{"text": "x"}', "-o", "p.json")
    assert (written.returncode, written.stdout) == (0, b""), written.stderr
    assert msgspec.json.decode((tmp_path / "p.json").read_bytes())["output"] == "x"
    both = cogrt(tmp_path, "predict", ref, "--json", '{"text": "x"}', "-i", "text=y")
    assert both.returncode == 1
    assert b"Must use one of --json or --input" in both.stderr


def test_inputs_are_refused_in_cog_predicts_words(tmp_path: Path) -> None:
    ref = MODELS.ref("text", "Echo")
    unknown = cogrt(tmp_path, "predict", ref, "-i", "text=x", "-i", "nope=1")
    assert unknown.returncode == 1
    assert b'unknown input "nope"; valid inputs are: text, times' in unknown.stderr
    as_json = cogrt(tmp_path, "predict", ref, "--json", '{"text": "x", "nope": 1}')
    assert b'unknown input "nope"' in as_json.stderr
    missing = cogrt(tmp_path, "predict", ref)
    assert (missing.returncode, missing.stdout) == (1, b"")
    assert b'missing required input "text"' in missing.stderr
    typed = cogrt(tmp_path, "predict", ref, "-i", "text=x", "-i", "times=lots")
    assert b'invalid input "times": expected integer, got string' in typed.stderr
    null = cogrt(tmp_path, "predict", ref, "--json", '{"text": "x", "times": null}')
    assert b'invalid input "times": must not be null (omit the input' in null.stderr


def test_inputs_are_checked_before_setup_ends(tmp_path: Path) -> None:
    """A typo does not wait for a long setup(), as cog predict refuses it before it starts."""
    done = cogrt(tmp_path, "predict", MODELS.ref("text", "SlowSetup"), "-i", "txt=x")
    assert done.returncode == 1
    assert b'unknown input "txt"; valid inputs are: text' in done.stderr
    assert b"setup done" not in done.stderr
    typed = cogrt(tmp_path, "predict", MODELS.ref("text", "SlowSetup"), "--json", '{"text": 5}')
    assert typed.returncode == 1
    assert b'invalid input "text": expected string, got number' in typed.stderr
    assert b"setup done" not in typed.stderr


def test_a_union_input_takes_the_type_a_member_accepts(tmp_path: Path) -> None:
    ref = MODELS.ref("text", "Union")
    for value, shown in (("hello", "str:hello"), ("1.5", "float:1.5"), ("1", "int:1")):
        done = cogrt(tmp_path, "predict", ref, "-i", f"a={value}", "-i", f"b={value}")
        assert (done.returncode, done.stdout.decode()) == (0, f"{shown} {shown}\n"), done.stderr


def test_json_prints_the_prediction_object(tmp_path: Path) -> None:
    done = cogrt(tmp_path, "predict", MODELS.ref("image"), "-i", "size=3", "--json")
    assert done.returncode == 0, done.stderr
    prediction = msgspec.json.decode(done.stdout)
    assert (prediction["status"], prediction["output"]) == ("succeeded", "output.png")
    assert "painting a 3x3 square" in prediction["logs"]
    assert (tmp_path / "output.png").read_bytes() == image.png(3, 255)


def test_a_failed_prediction_exits_1_with_its_error(tmp_path: Path) -> None:
    done = cogrt(tmp_path, "predict", MODELS.ref("text", "Broken"), "-i", "text=x")
    assert done.returncode == 1
    assert done.stdout == b""
    assert b"cogrt: error: predict failed: ValueError: cannot handle 'x'" in done.stderr


def test_invalid_input_exits_1_naming_the_field(tmp_path: Path) -> None:
    done = cogrt(tmp_path, "predict", MODELS.ref("image"), "-i", "size=0")
    assert done.returncode == 1
    assert b'cogrt: error: invalid input "size": ' in done.stderr


def test_setup_failure_exits_1_with_its_traceback(tmp_path: Path) -> None:
    done = cogrt(tmp_path, "predict", MODELS.ref("setup_fails"))
    assert done.returncode == 1
    assert b"RuntimeError: weights not found" in done.stderr
    assert b"cogrt: error: setup failed" in done.stderr


def test_a_missing_package_names_the_requirements_to_install(tmp_path: Path) -> None:
    (tmp_path / "cog.yaml").write_text("build:\n  python_requirements: reqs/gpu.txt\n")
    done = cogrt(tmp_path, "predict", MODELS.ref("needs_package"))
    assert done.returncode == 1
    assert b"install the model's requirements: pip install -r reqs/gpu.txt" in done.stderr
    packages = "build:\n  python_packages:\n    - torch==2.3\n    - pillow\n"
    (tmp_path / "cog.yaml").write_text(packages)
    listed = cogrt(tmp_path, "predict", MODELS.ref("needs_package"))
    assert b"install the model's requirements: pip install torch==2.3 pillow" in listed.stderr


def test_train_writes_its_output_to_weights_as_cog_train_does(tmp_path: Path) -> None:
    done = cogrt(tmp_path, "train", MODELS.ref("text", "Trainer"), "-i", "steps=3")
    assert (done.returncode, done.stdout) == (0, b""), done.stderr
    assert (tmp_path / "weights").read_text() == "trained 3 steps"
    assert b"Written output to: weights" in done.stderr
    chosen = cogrt(tmp_path, "train", MODELS.ref("text", "Trainer"), "-i", "steps=4", "-o", "w2")
    assert (tmp_path / "w2").read_text() == "trained 4 steps", chosen.stderr
    as_json = cogrt(tmp_path, "train", MODELS.ref("text", "Trainer"), "-i", "steps=5", "--json")
    assert msgspec.json.decode(as_json.stdout)["output"] == "trained 5 steps", as_json.stderr
    assert (tmp_path / "weights").read_text() == "trained 3 steps"  # untouched


def test_setup_is_logged_with_its_duration(tmp_path: Path) -> None:
    done = cogrt(tmp_path, "predict", MODELS.ref("text", "Echo"), "-i", "text=x", LOG_FORMAT="json")
    messages = [
        msgspec.json.decode(line)["message"]
        for line in done.stderr.splitlines()
        if line.startswith(b'{"time"')
    ]
    assert "setup started" in messages
    assert any(m.startswith("setup completed in ") and m.endswith(" s") for m in messages)


@pytest.mark.parametrize("command", ["predict", "train"])
def test_help_describes_every_option(tmp_path: Path, command: str) -> None:
    done = cogrt(tmp_path, command, "--help")
    assert done.returncode == 0
    for option in ("-i NAME=VALUE", "-o PATH", "--json"):
        assert option in done.stdout.decode()


def test_a_default_outside_its_bounds_fails_at_start_up(tmp_path: Path) -> None:
    done = cogrt(tmp_path, "predict", MODELS.ref("bad_default"))
    assert done.returncode == 1
    assert b"invalid default for steps: int: must be at maximum 50" in done.stderr
