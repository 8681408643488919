"""Checks the answers before anything is written; the same rules as `cargo singer new`."""

import re
import sys

# Names cargo accepts for a package and a binary, starting with a letter.
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
# Names whose characters are fine but that `cargo new` refuses, and why (its words).
CARGO_DIRECTORIES = {"build", "deps", "examples", "incremental"}
KEYWORDS = set(
    "Self abstract as async await become box break const continue crate do dyn else enum extern "
    "false final fn for if impl in let loop macro match mod move mut override priv pub ref return "
    "self static struct super trait true try type typeof unsafe unsized use virtual where while "
    "yield".split()
)


def reserved(value):
    if value in CARGO_DIRECTORIES:
        return "it conflicts with cargo's build directory names"
    if value == "test":
        return "it conflicts with Rust's built-in test library"
    if value in KEYWORDS:
        return "it is a Rust keyword"
    return None


# Values written into TOML and YAML strings.
TEXT = re.compile(r'^[^"\\\x00-\x1f\x7f]*$')

names = {
    "tap_id": {{ cookiecutter.tap_id | tojson }},
    "crate_name": {{ cookiecutter.crate_name | tojson }},
}
texts = {
    "source_name": {{ cookiecutter.source_name | tojson }},
    "admin_name": {{ cookiecutter.admin_name | tojson }},
    "admin_email": {{ cookiecutter.admin_email | tojson }},
    "variant": {{ cookiecutter.variant | tojson }},
    "sdk_path": {{ cookiecutter.sdk_path | tojson }},
}

errors = []
for key, value in names.items():
    if not NAME.match(value):
        errors.append(
            f"{key} `{value}` is not a valid name: use ASCII letters, digits, `-` and `_`, "
            "starting with a letter (e.g. tap-example)"
        )
    elif reserved(value):
        errors.append(
            f"{key} `{value}` cannot be used as a name: {reserved(value)}; choose another "
            "(e.g. tap-example)"
        )
for key, value in texts.items():
    if not TEXT.match(value):
        errors.append(f"{key} `{value}` must not contain quotes, backslashes or control characters")
if not re.match(r"^[A-Za-z][A-Za-z0-9]*$", texts["source_name"]):
    errors.append(
        f"source_name `{texts['source_name']}` is not a CamelCase name: use ASCII letters and "
        "digits, starting with a letter (e.g. MySourceName)"
    )
for error in errors:
    print(f"error: {error}", file=sys.stderr)
sys.exit(1 if errors else 0)
