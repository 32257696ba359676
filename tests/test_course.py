"""A course is the folder of its nbgrader_config.py, and its settings are that file's
`c.Autograder` section, the defaults filling in the rest."""

import pytest

from autograder.course import Course, CourseError
from autograder.settings import Autograder


def write_config(folder, text):
    (folder / "nbgrader_config.py").write_text("c = get_config()\n" + text)


def test_the_course_is_found_from_any_folder_below_it(tmp_path):
    write_config(tmp_path, "")
    (tmp_path / "source" / "a1").mkdir(parents=True)
    (tmp_path / "source" / "a1" / "a1.ipynb").write_text("{}")
    (tmp_path / "source" / "notes").mkdir()  # a folder without its notebook is no assignment
    assert Course.find(tmp_path / "source" / "a1").root == tmp_path.resolve()
    assert Course.find(tmp_path).assignments() == ["a1"]


def test_the_config_may_put_the_course_root_elsewhere(tmp_path):
    (tmp_path / "course").mkdir()
    write_config(tmp_path, f"c.CourseDirectory.root = {str(tmp_path / 'course')!r}\n")
    assert Course.load(tmp_path).root == (tmp_path / "course").resolve()


def test_settings_come_from_the_config_and_defaults_fill_in(tmp_path):
    write_config(tmp_path, "c.Autograder.runtime_factor = 4\nc.Autograder.call_timeout_seconds = 20\n")
    settings = Course.load(tmp_path).settings()
    assert (settings.runtime_factor, settings.call_timeout_seconds) == (4, 20)
    assert settings.runtime_repeats == Autograder().runtime_repeats  # the default
    assert settings.policy().factor == 4 and settings.limits()["runtime_factor"] == 4
    assert Course.load(tmp_path).settings(runtime_factor=2).policy().factor == 2


def test_a_setting_out_of_range_or_a_broken_config_is_named(tmp_path):
    write_config(tmp_path, "c.Autograder.runtime_factor = -1\n")
    with pytest.raises(CourseError, match="Autograder.runtime_factor must be greater than 0, got -1$"):
        Course.load(tmp_path).settings()
    write_config(tmp_path, "c.Autograder.runtime_factor = (\n")
    with pytest.raises(CourseError, match="nbgrader_config.py cannot be loaded"):
        Course.load(tmp_path)


def test_a_config_in_a_students_folder_is_never_loaded(tmp_path):
    write_config(tmp_path, "")
    planted = tmp_path / "submitted" / "mallory" / "a1"
    planted.mkdir(parents=True)
    (planted / "nbgrader_config.py").write_text("open('/tmp/pwned', 'w')\n")
    with pytest.raises(CourseError, match="a folder of students' files: not loaded"):
        Course.find(planted)
    assert Course.find(tmp_path / "submitted").root == tmp_path.resolve()  # the course's own is found
