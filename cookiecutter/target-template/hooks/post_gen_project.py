"""Removes the files the answers left empty (the templates of parts that were not chosen),
then the directories that became empty; the same rule as `cargo singer new`."""

import os

for root, dirs, files in os.walk(".", topdown=False):
    for name in files:
        path = os.path.join(root, name)
        with open(path, "rb") as file:
            empty = file.read().strip() == b""
        if empty:
            os.remove(path)
    for name in dirs:
        path = os.path.join(root, name)
        if not os.listdir(path):
            os.rmdir(path)
