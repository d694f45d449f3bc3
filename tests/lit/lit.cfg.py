# lit configuration for weft's FileCheck tests (tests/lit/<dir>/*.wir).
#
# Needs the directory holding the built tools: `--param weft_tools_dir=DIR` (ctest passes it)
# or the environment variable WEFT_TOOLS_DIR. FileCheck defaults to LLVM 19's; override it
# with `--param filecheck=PATH` or FILECHECK.
import os
import re

import lit.formats

config.name = "weft"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".wir"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = lit_config.params.get(
    "weft_lit_out", os.path.join(config.test_source_root, "Output")
)

tools_dir = lit_config.params.get("weft_tools_dir") or os.environ.get("WEFT_TOOLS_DIR")
if tools_dir:
    tools_dir = os.path.abspath(tools_dir)
else:
    lit_config.fatal("set --param weft_tools_dir=DIR or WEFT_TOOLS_DIR to the built tools")
filecheck = lit_config.params.get("filecheck") or os.environ.get(
    "FILECHECK", "/usr/lib/llvm-19/bin/FileCheck"
)


def find_tool(name):
    # tools_dir may be the directory of the executable itself or the build's tools/ directory.
    for candidate in (os.path.join(tools_dir, name), os.path.join(tools_dir, name, name)):
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    lit_config.fatal("cannot find %s under %s" % (name, tools_dir))


# Substitute whole words only, so that paths containing a tool's name are left alone.
def tool_subst(name, path):
    return (r"(?<![\w/.-])" + re.escape(name) + r"(?![\w/.-])", path)


config.substitutions.append(tool_subst("weft-opt", find_tool("weft-opt")))
config.substitutions.append(tool_subst("FileCheck", filecheck))
config.substitutions.append(tool_subst("not", "/usr/lib/llvm-19/bin/not"))
config.substitutions.append(tool_subst("count", "/usr/lib/llvm-19/bin/count"))
# weftc is built only with the cpu backend (LLVM); tests that run it say REQUIRES: weftc.
weftc = lit_config.params.get("weftc")
if weftc:
    config.substitutions.append(tool_subst("weftc", weftc))
    config.available_features.add("weftc")
# weft-run (the reference interpreter) lives in its own build directory; tests that run it say
# REQUIRES: weft-run.
weft_run = lit_config.params.get("weft_run")
if weft_run:
    config.substitutions.append(tool_subst("weft-run", weft_run))
    config.available_features.add("weft-run")
# The .npy files and IR corpus of the unit tests.
config.substitutions.append(
    ("%weft_data", os.path.join(os.path.dirname(config.test_source_root), "data"))
)
