# SPDX-License-Identifier: BSD-3-Clause
"""The repository's Markdown holds together: every relative link in every
*.md resolves to a file or folder of the repository (and, with a #fragment,
to a heading of that file, as GitHub makes its anchors), the README stays
short, and no doc or Python file cites an issue number or a design file
outside the repository (design citations point to docs/design.md).

Reads files only: no root, no build, no sipwake."""
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Inline links and images: [text](target) / ![alt](target), target without spaces.
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def repo_files(ext):
    for top, dirs, files in os.walk(REPO):
        rel = os.path.relpath(top, REPO)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and not (rel == "." and d.startswith("build"))
                         and d != "node_modules")
        for f in sorted(files):
            if f.endswith(ext):
                yield os.path.join(top, f)


def prose_lines(path):
    """(line number, text) of the lines outside fenced code blocks."""
    fenced = False
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if FENCE.match(line):
                fenced = not fenced
                continue
            if not fenced:
                yield n, line


def slug(heading):
    """GitHub's anchor for a heading: links reduced to their text, then lower
    case, everything but letters, digits, '_', '-' and spaces removed, spaces
    turned into '-'."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(path):
    seen, out = {}, set()
    for _, line in prose_lines(path):
        m = HEADING.match(line)
        if not m:
            continue
        s = slug(m.group(2))
        k = seen.get(s, 0)
        seen[s] = k + 1
        out.add(s if k == 0 else "%s-%d" % (s, k))
    return out


def prose(path):
    """The file's text with fenced code blocks blanked and inline code spans
    masked (same length, so offsets still give line numbers): link text may
    run over several lines."""
    out, fenced = [], False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if FENCE.match(line):
                fenced = not fenced
                out.append("\n")
            elif fenced:
                out.append("\n")
            else:
                out.append(re.sub(r"`[^`\n]*`", lambda m: "x" * len(m.group(0)), line))
    return "".join(out)


def test_every_relative_link_resolves():
    bad, checked = [], 0
    for md in repo_files(".md"):
        text = prose(md)
        for m in LINK.finditer(text):
            target = m.group(1)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                continue  # https:, mailto:, file: ...
            checked += 1
            path, _, frag = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
            where = "%s:%d: %s" % (os.path.relpath(md, REPO), text.count("\n", 0, m.start()) + 1,
                                   target)
            if not os.path.exists(dest):
                bad.append(where + " (no such file)")
            elif not dest.startswith(REPO + os.sep):
                bad.append(where + " (outside the repository)")
            elif frag and dest.endswith(".md") and frag not in anchors(dest):
                bad.append(where + " (no such heading)")
    assert checked > 0
    assert not bad, "\n".join(bad)


def test_readme_is_short():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        n = sum(1 for _ in f)
    assert n <= 250, "README.md has %d lines: move detail into docs/" % n


def test_no_issue_numbers_or_outside_design_citations():
    # Spelled in pieces so that this file does not match itself.
    pattern = re.compile("DESIGN" + r"\.md|" + "issue" + r" #?[0-9]")
    bad = []
    for ext in (".md", ".py"):
        for p in repo_files(ext):
            with open(p, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    if pattern.search(line):
                        bad.append("%s:%d: %s" % (os.path.relpath(p, REPO), n, line.strip()))
    assert not bad, "\n".join(bad)
