#!/usr/bin/env python3
"""Services talk HTTP, not crates: fails when a crate under services/ has a normal or build
dependency on another crate under services/, or a crate under shared/ or loadtests/ has one
on any crate under services/ (which would hand a service's crate to every service using it).

The services are separate processes in production; the types they exchange live in
shared/wire (norikae-wire), which both sides depend on. Exceptions:
- services/cli (the `norikae` command, whose `serve` runs every service in one process) may
  depend on all of them;
- dev-dependencies are allowed: integration tests start the real upstream services in-process
  (the api's tests start route and search, the app's tests the api and both engines).

Reads `cargo metadata --format-version 1 --no-deps` (run from the workspace), or the JSON of
it from a file given as the only argument. Prints each offending edge and exits 1.
"""

import json
import os
import subprocess
import sys

ALLOWED_TO_LINK_SERVICES = {"services/cli"}


def metadata():
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as file:
            return json.load(file)
    output = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        check=True,
        stdout=subprocess.PIPE,
    ).stdout
    return json.loads(output)


WORKSPACE_DIRS = ("services", "shared", "loadtests")


def crate_dir(root, path):
    """`services/<name>`, `shared/<name>` or `loadtests/<name>` for a path inside a
    workspace crate's directory, else None."""
    relative = os.path.relpath(path, root).replace(os.sep, "/")
    parts = relative.split("/")
    if len(parts) >= 2 and parts[0] in WORKSPACE_DIRS:
        return f"{parts[0]}/{parts[1]}"
    return None


def service_dir(root, path):
    """`services/<name>` for a path inside a service crate's directory, else None."""
    directory = crate_dir(root, path)
    return directory if directory and directory.startswith("services/") else None


def main():
    data = metadata()
    root = data["workspace_root"]
    offending = []
    for package in data["packages"]:
        source = crate_dir(root, os.path.dirname(package["manifest_path"]))
        if source is None or source in ALLOWED_TO_LINK_SERVICES:
            continue
        for dependency in package["dependencies"]:
            kind = dependency.get("kind") or "normal"
            if kind == "dev" or "path" not in dependency:
                continue
            target = service_dir(root, dependency["path"])
            if target is None or target == source:
                continue
            offending.append(
                f"{source} ({package['name']}) has a {kind} dependency on "
                f"{target} ({dependency['name']})"
            )
    if offending:
        for edge in offending:
            print(f"error: {edge}", file=sys.stderr)
        print(
            "services talk HTTP, not crates: put the types they exchange in shared/wire "
            "(norikae-wire). Only services/cli may depend on services; "
            "dev-dependencies (tests that start a real upstream in-process) are allowed.",
            file=sys.stderr,
        )
        return 1
    checked = sum(
        1
        for package in data["packages"]
        if crate_dir(root, os.path.dirname(package["manifest_path"])) is not None
    )
    print(f"ok: no crate but services/cli depends on a service ({checked} crates checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
