"""singer-conformance for pytest: one test item per conformance check.

    pytest -p singer_conformance --singer-tap "tap-foo --flag" --singer-config config.json

collects one item per check of the tap suite, named by the check id
(``tap.sync.keys-unique``), so ``-k``, ``--junitxml`` and the usual reporting work. A failing
check fails its item with the check's message; a check that does not apply is skipped with
the reason. ``--singer-target`` and ``--singer-mapper`` run the target and mapper suites.

The same options can be set from a ``conftest.py``::

    def pytest_configure(config):
        config.option.singer_tap = "tap-foo"
        config.option.singer_config = "tests/config.json"
        config.option.singer_skip = ["tap.kill.resume"]

The checks run once per session (in one ``singer-conformance`` process), the first time an
item runs; each item then reports its own verdict.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

__all__ = ["harness", "CheckFailed"]

_KINDS = ("tap", "target", "mapper")


def harness() -> str:
    """The path of the ``singer-conformance`` binary installed with this package."""
    name = "singer-conformance.exe" if sys.platform == "win32" else "singer-conformance"
    beside = Path(sysconfig.get_path("scripts")) / name
    if beside.exists():
        return str(beside)
    found = shutil.which("singer-conformance")
    if found:
        return found
    raise pytest.UsageError(
        "singer-conformance is not installed: `pip install singer-conformance` puts it on PATH"
    )


def pytest_addoption(parser):
    group = parser.getgroup("singer-conformance", "Singer conformance checks")
    group.addoption("--singer-tap", metavar="CMD", help="run the tap suites on this command line")
    group.addoption("--singer-target", metavar="CMD", help="run the target suites on this command line")
    group.addoption("--singer-mapper", metavar="CMD", help="run the mapper suites on this command line")
    group.addoption("--singer-config", metavar="PATH", help="the connector's config file (JSON)")
    group.addoption(
        "--singer-skip",
        action="append",
        default=[],
        metavar="ID",
        help="leave out this check or suite (repeatable)",
    )
    group.addoption(
        "--singer-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="pass an option to singer-conformance, e.g. --singer-arg=--timeout=60 (repeatable)",
    )


def _connector(config):
    """The kind and command line asked for, or ``(None, None)``."""
    given = [(kind, getattr(config.option, f"singer_{kind}", None)) for kind in _KINDS]
    given = [(kind, command) for kind, command in given if command]
    if not given:
        return None, None
    if len(given) > 1:
        raise pytest.UsageError("give one of --singer-tap, --singer-target, --singer-mapper")
    kind, command = given[0]
    words = shlex.split(command) if isinstance(command, str) else list(command)
    if not words:
        raise pytest.UsageError(f"--singer-{kind} is empty; give the connector's command line")
    if not getattr(config.option, "singer_config", None):
        raise pytest.UsageError(f"--singer-{kind} needs --singer-config PATH (the connector's config)")
    return kind, words


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    kind, command = _connector(config)
    if kind is None:
        return
    listed = subprocess.run(
        [harness(), "checks", kind, "--json"], capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        raise pytest.UsageError(f"singer-conformance checks failed: {listed.stderr.strip()}")
    skip = list(getattr(config.option, "singer_skip", None) or [])
    runner = _Runner(config, kind, command, skip)
    for check in json.loads(listed.stdout):
        if any(check["id"] == s or check["id"].startswith(s + ".") for s in skip):
            continue
        items.append(
            CheckItem.from_parent(
                session, name=check["id"], nodeid=check["id"], check=check, runner=runner
            )
        )


class CheckFailed(Exception):
    """A conformance check failed."""


class _HarnessError(Exception):
    """singer-conformance itself could not run (a command that does not exist, a config file
    that does not parse): reported once, on the first item, and the session stops."""


class _Runner:
    """Runs the selected checks once, in one harness process, and keeps the verdicts."""

    def __init__(self, config, kind, command, skip):
        self.config = config
        self.kind = kind
        self.command = command
        self.skip = skip
        self.verdicts = None
        self.error = None

    def verdict(self, session, check_id):
        if self.verdicts is None and self.error is None:
            self._run([item.name for item in session.items if isinstance(item, CheckItem)])
        if self.error is not None:
            # One failure saying why, not one per check: the session stops after this item.
            session.shouldfail = "singer-conformance could not run the checks (see the failure above)"
            raise _HarnessError(self.error)
        return self.verdicts.get(check_id)

    def _run(self, ids):
        with tempfile.TemporaryDirectory(prefix="singer-conformance-") as scratch:
            report = os.path.join(scratch, "report.json")
            args = [harness(), self.kind, "--config", str(self.config.option.singer_config)]
            for check_id in ids:
                args += ["--suite", check_id]
            args += ["--format", "json", "--output", report]
            args += list(getattr(self.config.option, "singer_arg", None) or [])
            args += ["--", *self.command]
            done = subprocess.run(args, capture_output=True, text=True, check=False)
            if done.returncode not in (0, 1) or not os.path.exists(report):
                self.error = (
                    f"singer-conformance could not run (exit code {done.returncode}): "
                    f"{done.stderr.strip()}"
                )
                return
            with open(report, encoding="utf-8") as f:
                document = json.load(f)
        self.verdicts = {check["id"]: check for check in document.get("checks", [])}


class CheckItem(pytest.Item):
    """One conformance check of the connector under test."""

    def __init__(self, *, check, runner, **kwargs):
        super().__init__(**kwargs)
        self.check = check
        self.runner = runner

    def runtest(self):
        verdict = self.runner.verdict(self.session, self.name)
        if verdict is None:
            raise CheckFailed(f"{self.name}: the harness gave no verdict for this check")
        status = verdict.get("status")
        message = verdict.get("message") or ""
        if status == "skip":
            pytest.skip(message or "does not apply")
        if status != "pass":
            raise CheckFailed(message or status)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, _HarnessError):
            return str(excinfo.value)
        if isinstance(excinfo.value, CheckFailed):
            return f"FAIL {self.name}: {excinfo.value}\n    checks that {self.check['what']}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return Path(str(self.config.rootpath)) / "singer-conformance", None, self.name
