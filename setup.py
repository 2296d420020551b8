"""Build hook: a wheel built from a git checkout records its commit, so that an installed copy
(`pip install .`, which builds in the checkout) can still say on a dataset card which code made
the data. Everything else about the package is in pyproject.toml."""

import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

COMMIT_FILE = "moving_mnist_hub/_commit.py"  # generated into the build, never into the checkout


def checkout_commit(folder: Path) -> str | None:
    """HEAD of the git checkout whose top is `folder`, "-dirty" if the generator was edited; None otherwise
    (an unpacked sdist, say, even inside another repository)."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=True).stdout.strip()
    try:
        if Path(git("rev-parse", "--show-toplevel")).resolve() != folder.resolve():
            return None
        dirty = git("status", "--porcelain", "--", "generator", "moving_mnist.py")
        return git("rev-parse", "HEAD") + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


class BuildPyWithCommit(build_py):
    def run(self):
        super().run()
        commit = checkout_commit(Path(__file__).parent)
        if commit is not None:
            target = Path(self.build_lib) / COMMIT_FILE
            target.write_text(f'"""Written by setup.py at build time."""\n\nCOMMIT = "{commit}"\n', encoding="utf-8")


setup(cmdclass={"build_py": BuildPyWithCommit})
