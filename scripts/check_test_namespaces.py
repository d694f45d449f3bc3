#!/usr/bin/env python3
"""Checks that every test file keeps its file-local code in a namespace of its own.

CI compiles the test binaries as unity builds (several test files per translation unit,
tests/CMakeLists.txt): anonymous namespaces, file-scope `static`s and `using` directives of one
file then meet those of the others in its batch, and two helpers of one name clash. So each
tests/unit/**/*Test.cpp declares everything inside a namespace named after the file, the
directory and the file's stem joined by `_` (tests/unit/cpu/GruRnnKernelTest.cpp:
`cpu_GruRnnKernelTest`, alone or nested: `namespace weft::cputest::cpu_GruRnnKernelTest {`).
Outside it only these may stand: namespaces, doctest's TEST_CASE-like macros (doctest names
their functions uniquely), `extern "C"` declarations, and definitions of a qualified name
(`std::vector<OpCase> weft::test::mathCases() {`: what a header declared cannot clash).

  scripts/check_test_namespaces.py [files or directories...]   (default: tests/unit)

Prints file:line: message for each offence and exits 1 if there was one.
"""
import pathlib
import re
import sys

# doctest's macros that define uniquely named functions or namespaces.
ALLOWED_MACROS = re.compile(
    r"^(TEST_CASE|TEST_CASE_FIXTURE|TEST_CASE_TEMPLATE|TEST_CASE_TEMPLATE_DEFINE|"
    r"TEST_CASE_TEMPLATE_INVOKE|TEST_CASE_TEMPLATE_APPLY|TEST_SUITE|TEST_SUITE_BEGIN|"
    r"TEST_SUITE_END|SCENARIO|SCENARIO_TEMPLATE|TYPE_TO_STRING|REGISTER_EXCEPTION_TRANSLATOR)\b")
NAMESPACE = re.compile(r"^namespace\s*([\w:]*)\s*$")
QUALIFIED_DEFINITION = re.compile(r"(\w+::)+~?\w+\s*$")


def blank_non_code(text):
    """The text with comments, string and character literals and preprocessor lines replaced
    by spaces (newlines kept), so that braces and semicolons can be counted."""
    out = []
    i, n = 0, len(text)
    line_start = True
    while i < n:
        c = text[i]
        if line_start and c in " \t":
            out.append(c)
            i += 1
            continue
        if line_start and c == "#":  # a preprocessor line, with its continuations
            while i < n and text[i] != "\n":
                if text[i] == "\\" and i + 1 < n and text[i + 1] == "\n":
                    out.append(" \n")
                    i += 2
                    continue
                out.append(" ")
                i += 1
            continue
        line_start = c == "\n"
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum()
                                                              and text[i - 1] not in "uUL8")):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum())):
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (min(j + 1, n) - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def file_namespace(path):
    """tests/unit/frontend/nn/LinearTest.cpp -> frontend_nn_LinearTest."""
    parts = pathlib.Path(path).resolve().parts
    rel = parts[parts.index("unit") + 1:] if "unit" in parts else parts[-1:]
    return "_".join(rel[:-1] + (pathlib.Path(rel[-1]).stem,))


def check(path, name=None):
    """The offences of one file: (line, message)."""
    name = name or file_namespace(path)
    code = blank_non_code(pathlib.Path(path).read_text())
    problems = []
    stack = []  # per open brace: "ns" (another namespace), "file" (the file's own), "block"
    statement, statement_line = "", None
    line = 1
    for c in code:
        if c == "\n":
            line += 1
        in_file_namespace = "file" in stack
        at_namespace_scope = all(kind in ("ns", "file") for kind in stack)
        if c == "{":
            text = statement.strip()
            m = NAMESPACE.match(text)
            if m:
                last = m.group(1).split("::")[-1] if m.group(1) else ""
                stack.append("file" if last == name else "ns")
            elif text.startswith("TEST_SUITE"):
                stack.append("ns")
            else:
                stack.append("block")
                if at_namespace_scope and not in_file_namespace:
                    check_statement(text, statement_line, name, problems)
            statement, statement_line = "", None
        elif c == "}":
            if stack:
                stack.pop()
            statement, statement_line = "", None
        elif c == ";":
            if at_namespace_scope and not in_file_namespace and statement.strip():
                check_statement(statement.strip(), statement_line, name, problems)
            statement, statement_line = "", None
        else:
            if statement_line is None and not c.isspace():
                statement_line = line
            statement += c
    if name not in {m.group(1).split("::")[-1] for m in
                     re.finditer(r"\bnamespace\s+([\w:]+)\s*\{", code)}:
        problems.insert(0, (1, f"no namespace {name} (the file's own; see "
                               "scripts/check_test_namespaces.py)"))
    return problems


def check_statement(text, line, name, problems):
    if ALLOWED_MACROS.match(text) or text.startswith("extern"):
        return
    if text.startswith("namespace") and "=" not in text:  # `namespace {` handled by the caller
        return
    head = text.split("(")[0] if "(" in text else ""
    if head and QUALIFIED_DEFINITION.search(head) and not text.startswith("using"):
        return
    what = " ".join(text.split())[:60]
    problems.append((line, f"'{what}' is outside namespace {name}: in a unity build it meets "
                           "the other test files' declarations"))


def main(argv):
    root = pathlib.Path(__file__).resolve().parent.parent
    targets = [pathlib.Path(a) for a in argv] or [root / "tests" / "unit"]
    files = []
    for t in targets:
        files += sorted(t.rglob("*Test.cpp")) if t.is_dir() else [t]
    bad = 0
    for f in files:
        for line, message in check(f):
            print(f"{f}:{line}: {message}")
            bad += 1
    if bad:
        print(f"{bad} declaration(s) outside their test file's namespace", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
