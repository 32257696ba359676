"""A real browser on a real JupyterLab, for tests that check what a student sees.

- `require_browser()` skips a test when Chromium or its driver (Debian's `chromium` and
  `chromium-driver`) is missing, and fails it instead when the environment variable CI is set.
- `start_jupyterlab(root, state)` runs `jupyter lab` of this environment on a free port, serving
  `root`; everything Jupyter writes (config, runtime files, settings, workspaces) goes to `state`,
  its only kernel is this interpreter's (`sys.executable`), and news, update checks and their
  notifications are off. The server, its kernels and their processes are stopped on exit.
- `chrome()` is headless Chromium driven by selenium, 1400×1000; `screenshot(driver, name)` saves
  the window as `<name>.png` in `screenshot_dir()`: `build/screenshots/` of the repository, or
  the folder the environment variable AUTOGRADER_SCREENSHOTS names.
- `open_notebook`, `run_all` and `wait_until_run` work a notebook as a student does: open it,
  Run > Run All Cells, wait until the kernel is idle and no cell is queued.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

REPOSITORY = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SERVER_START_SECONDS = 90
PAGE_LOAD_SECONDS = 90
# The notebook on show: JupyterLab hides the panels of the other tabs.
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
NOTEBOOK = f"{PANEL} .jp-Notebook"
# JupyterLab renders an error (its traceback) and text written to stderr alike, as this.
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
STDOUT_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stdout"]'
IMAGE = ".jp-RenderedMarkdown img, .jp-OutputArea-output img"  # markdown (attachments too), outputs
NO_NEWS = {"@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False}}


def browser_missing() -> str | None:
    """Why a browser test cannot run here, or None."""
    found = {"chromium": Path(CHROMIUM).is_file(), "chromium-driver": shutil.which("chromedriver")}
    missing = [package for package, there in found.items() if not there]
    return f"{' and '.join(missing)} not installed (apt-get install {' '.join(found)})" if missing else None


def require_browser() -> None:
    """Skip the calling test without a browser; in CI (CI set), fail it."""
    reason = browser_missing()
    if reason and os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {reason}")
    if reason:
        pytest.skip(reason)


def screenshot_dir() -> Path:
    folder = Path(os.environ.get("AUTOGRADER_SCREENSHOTS") or REPOSITORY / "build" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(driver: WebDriver, name: str) -> Path:
    """Save what the window shows as `<name>.png` in screenshot_dir()."""
    path = screenshot_dir() / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


@contextlib.contextmanager
def screenshot_on_failure(driver: WebDriver, name: str) -> Iterator[None]:
    """Save the window as `<name>.png` when the block raises."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            screenshot(driver, name)
        raise


@dataclass
class JupyterLab:
    url: str  # http://127.0.0.1:<port>/
    token: str
    root: Path
    log: Path

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(f"{self.url}api/{path}", method=method)
        request.add_header("Authorization", f"token {self.token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def lab_url(self, path: Path) -> str:
        """The page that opens `path` (inside root) in a fresh workspace."""
        relative = urllib.parse.quote(path.relative_to(self.root).as_posix())
        return f"{self.url}lab/tree/{relative}?reset&token={self.token}"


def _write_kernel(data: Path) -> None:
    """The only python3 kernel: this interpreter, whatever PATH or ~/.local say."""
    spec = data / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "Python 3 (ipykernel)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))


def _write_settings(settings: Path) -> None:
    for plugin, values in NO_NEWS.items():
        file = settings / f"{plugin}.jupyterlab-settings"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(values))


def _environment(state: Path) -> dict[str, str]:
    _write_kernel(state / "path")
    _write_settings(state / "settings")
    folders = {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTER_PATH": "path",
        "JUPYTERLAB_SETTINGS_DIR": "settings",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
        "IPYTHONDIR": "ipython",
    }
    environment = {**os.environ, **{name: str(state / folder) for name, folder in folders.items()}}
    environment["JUPYTER_PLATFORM_DIRS"] = "1"
    return environment


def _lab_command(root: Path, token: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        "--port=0",  # a free port, which the server's info file tells
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]


def _wait_for_server(process: subprocess.Popen, runtime: Path, token: str, log: Path) -> str:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"jupyter lab exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        for info in runtime.glob("jpserver-*.json"):
            with contextlib.suppress(OSError, ValueError, KeyError):  # written, then listening
                url = json.loads(info.read_text())["url"].rstrip("/") + "/"
                urllib.request.urlopen(f"{url}api/status?token={token}", timeout=5).close()
                return url
        time.sleep(0.2)
    pytest.fail(f"jupyter lab did not answer in {SERVER_START_SECONDS} s:\n{log.read_text()[-3000:]}")


def _processes_naming(text: str) -> list[int]:
    """Processes whose command line holds `text` (a path of this test's own)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if text.encode() in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
    return pids


def _stop_server(lab: JupyterLab, process: subprocess.Popen, runtime: Path) -> None:
    """Shut the kernels down, stop the server, then kill whatever of theirs is left: the server's
    process group, and kernels (each in a session of its own) by their connection file's folder."""
    with contextlib.suppress(OSError, ValueError):
        for kernel in lab.api("kernels"):
            lab.api(f"kernels/{kernel['id']}", method="DELETE")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for pid in _processes_naming(str(runtime)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def start_jupyterlab(root: Path, state: Path) -> Iterator[JupyterLab]:
    """JupyterLab serving `root`, its own files in `state` (a folder outside root)."""
    token = secrets.token_hex(16)
    environment = _environment(state)
    log = state / "jupyterlab.log"
    runtime = Path(environment["JUPYTER_RUNTIME_DIR"])
    with open(log, "w") as out:
        process = subprocess.Popen(
            _lab_command(root, token),
            cwd=root,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    lab = JupyterLab("", token, root, log)
    try:
        lab.url = _wait_for_server(process, runtime, token, log)
        yield lab
    finally:
        _stop_server(lab, process, runtime)


@contextlib.contextmanager
def chrome(profile: Path) -> Iterator[WebDriver]:
    """Headless Chromium, its profile in `profile`; quit, and its processes killed, on exit."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--disable-gpu",
    ):
        options.add_argument(argument)
    service = Service(executable_path=shutil.which("chromedriver"), popen_kw={"start_new_session": True})
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        with contextlib.suppress(Exception):
            driver.quit()
        if service.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.process.pid, signal.SIGKILL)
        for pid in _processes_naming(str(profile)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def wait(driver: WebDriver, seconds: float, condition: Callable, message: str | Callable = ""):
    """WebDriverWait(driver, seconds).until(condition), polling every 0.25 s; on timeout an
    AssertionError saying `message` (or what `message(driver)` returns)."""
    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.25).until(condition)
    except TimeoutException as timeout:
        text = message(driver) if callable(message) else message
        raise AssertionError(f"timed out after {seconds} s: {text}") from timeout


def _cell(index: int) -> str:
    """JavaScript: cell `index` (0-based, as in the notebook file) of the notebook on show."""
    return f"document.querySelector('{NOTEBOOK} .jp-Cell[data-windowed-list-index=\"{index}\"]')"


def attached_cells(driver: WebDriver) -> int:
    """How many cells of the notebook on show are on the page (JupyterLab adds them when idle)."""
    return driver.execute_script(f"return document.querySelectorAll('{NOTEBOOK} .jp-Cell').length")


def kernel_status(driver: WebDriver) -> str:
    """The notebook toolbar's kernel indicator: idle, busy, starting, ... ('' when absent)."""
    indicator = f"document.querySelector('{PANEL} .jp-Notebook-ExecutionIndicator')"
    return driver.execute_script(
        f"const indicator = {indicator}; return indicator ? indicator.dataset.status : '';"
    )


def kernel_ready(lab: JupyterLab, driver: WebDriver, path: Path) -> bool:
    """The server's kernel of the notebook at `path` is idle, and so says the page (which says
    idle before there is a kernel at all)."""
    relative = path.relative_to(lab.root).as_posix()
    try:
        sessions = lab.api("sessions")
    except (OSError, ValueError):
        return False
    states = [s["kernel"]["execution_state"] for s in sessions if s["path"] == relative and s.get("kernel")]
    return states == ["idle"] and kernel_status(driver) == "idle"


def open_notebook(driver: WebDriver, lab: JupyterLab, path: Path) -> None:
    """Open the notebook at `path` as the only tab; return once its first cell is on the page and
    its kernel is idle (the other cells keep coming)."""
    driver.get(lab.lab_url(path))
    wait(driver, PAGE_LOAD_SECONDS, lambda d: attached_cells(d) > 0, "no cell on the page")
    status = lambda d: f"kernel {kernel_status(d)}"  # noqa: E731
    wait(driver, PAGE_LOAD_SECONDS, lambda d: kernel_ready(lab, d, path), status)


def run_all(driver: WebDriver) -> None:
    """Run > Run All Cells, with the mouse."""
    driver.find_element(By.XPATH, "//li[contains(@class, 'lm-MenuBar-item')][.//*[text()='Run']]").click()
    item = (By.CSS_SELECTOR, '.lm-Menu-item[data-command="runmenu:run-all"]')
    wait(driver, 10, lambda d: d.find_element(*item), "no Run All Cells in the Run menu").click()


def prompts(driver: WebDriver) -> dict[int, str]:
    """The input prompt of every code cell on the page, by cell index: '[3]:', '[*]:' (running or
    waiting), '[ ]:'. (textContent: innerText is empty for cells out of view, content-visibility.)"""
    script = f"""return Array.from(document.querySelectorAll('{NOTEBOOK} .jp-CodeCell')).map(cell =>
        [cell.dataset.windowedListIndex, cell.querySelector('.jp-InputPrompt').textContent.trim()]);"""
    return {int(index): prompt for index, prompt in driver.execute_script(script)}


def has_run(prompt: str) -> bool:
    return prompt[1:-2].isdigit()


def wait_until_run(driver: WebDriver, seconds: float, cells: int) -> dict[int, str]:
    """After run_all on a notebook without execution counts: wait until a cell has run, all
    `cells` are on the page, the kernel is idle and no cell is running or waiting, the same twice
    in a row. Returns the prompts."""
    wait(driver, seconds, lambda d: any(map(has_run, prompts(d).values())), "no cell ran")
    settled: list[dict[int, str]] = []

    def finished(d):
        shown = prompts(d)
        done = kernel_status(d) == "idle" and attached_cells(d) == cells and "[*]:" not in shown.values()
        settled[:] = [*settled[-1:], shown] if done else []
        return shown if len(settled) == 2 and settled[0] == settled[1] else False

    message = lambda d: f"{attached_cells(d)} cells, kernel {kernel_status(d)}, prompts {prompts(d)}"  # noqa: E731
    return wait(driver, seconds, finished, message)


def show_cell(driver: WebDriver, index: int) -> None:
    """Scroll the notebook so that cell `index` starts at the top of the window."""
    driver.execute_script(f"{_cell(index)}.scrollIntoView({{block: 'start'}});")


def cells_with(driver: WebDriver, selector: str) -> list[int]:
    """The cells of the notebook on show that hold an element matching `selector`, in order."""
    script = f"""return Array.from(document.querySelectorAll('{NOTEBOOK} .jp-Cell'))
        .filter(cell => cell.querySelector('{selector}'))
        .map(cell => Number(cell.dataset.windowedListIndex));"""
    return driver.execute_script(script)


def images(driver: WebDriver, index: int) -> list[bool]:
    """For each <img> of cell `index` (markdown or outputs): whether it is loaded and not empty."""
    loaded = "img => img.complete && img.naturalWidth > 0"
    return driver.execute_script(
        f"return Array.from({_cell(index)}.querySelectorAll('{IMAGE}')).map({loaded});"
    )


def outputs(driver: WebDriver, index: int, selector: str = ".jp-OutputArea-output") -> list[str]:
    """The visible text (innerText) of each output of cell `index` matching `selector`, the cell
    scrolled into view first (text out of view is not laid out)."""
    show_cell(driver, index)
    script = (
        f"return Array.from({_cell(index)}.querySelectorAll('{selector}')).map(output => output.innerText);"
    )

    def laid_out(d):
        found = d.execute_script(script)
        return (found,) if all(found) else False  # a tuple: true when nothing matches, too

    return wait(driver, 10, laid_out, f"the outputs of cell {index} are not laid out")[0]


def output_lines(driver: WebDriver, index: int, selector: str = ".jp-OutputArea-output") -> list[int]:
    """How many lines each output of cell `index` matching `selector` takes on the screen, wrapped
    lines included (its height over its line height)."""
    show_cell(driver, index)
    lines = (
        "pre => Math.round(pre.getBoundingClientRect().height / parseFloat(getComputedStyle(pre).lineHeight))"
    )
    script = f"return Array.from({_cell(index)}.querySelectorAll('{selector} pre')).map({lines});"
    return driver.execute_script(script)
