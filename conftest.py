"""The project's root conftest: registers the case-file collector (tests/case_files.py), which runs
each case of rules/tests/*.yaml as its own test."""

pytest_plugins = ["tests.case_files"]
