#!/usr/bin/env python3
"""The repository speaks only of the project (the doc_wording test).

Searches every tracked text file for words about how the work was organised rather than about
Genesis: numbered issues or streams of work, branches and merges, people, and design notes
kept outside the repository. History belongs in git log and CHANGELOG.md. Links to upstream
bug trackers (nanomsg/nng#1543) are fine. Exits 77 (skipped) outside a git checkout.
"""
import subprocess
import sys

# (git grep option, extended regular expression). Written with [ ] and [e] so that this file
# does not match its own patterns.
PATTERNS = [
    ("-i", r"\b(issue|stream)[ ]?[0-9]+[ab]?\b|this[ ]branch|after[ ]the[ ]merge"
           r"|other[ ]engineers|the[ ]lead\b|\.\./shar[e]d|/work/shar[e]d|\bsk[e]tch"),
    ("--no-ignore-case", r"\bDESIGN\.md"),  # docs/design.md is the project's own page
]


def main(root):
    found = ""
    for case, pattern in PATTERNS:
        try:
            r = subprocess.run(["git", "-C", root, "grep", "-nIE", case, pattern],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except OSError as err:
            print(f"skipped: git is not available ({err})")
            return 77
        if r.returncode > 1:
            print(f"skipped: not a git checkout ({r.stderr.strip()})")
            return 77
        found += r.stdout
    if not found:
        print("no words about how the work was organised")
        return 0
    print("These lines speak of how the work was organised; say it in terms of the project:")
    print(found, end="")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
