"""cc_library and cc_test with tqs1's defaults: BUILD files say what differs.

A library here is one concept in <name>.h (and <name>.cc when it is not
header-only), a test is <name>.cc beside the code, and every target uses
Abseil. These macros say that once:

    load("//tools:cc.bzl", "tqs1_cc_library", "tqs1_cc_test")

    tqs1_cc_library(
        name = "planner",           # srcs planner.cc if present, hdrs planner.h
        deps = [":address"],        # + @system_libs//:absl
    )

    tqs1_cc_test(
        name = "planner_test",      # srcs planner_test.cc, size "small"
        size = "medium",
        deps = [":planner"],        # + absl, gmock and gtest_main
    )

Write srcs or hdrs out only where they differ from the default (`hdrs = []`
for a library without a header of its name). Every other attribute
(visibility, testonly, alwayslink, data, args, tags, ...) goes to the native
rule unchanged. A test with its own main() stays a plain cc_test.
"""

_ABSL = "@system_libs//:absl"

_TEST_DEPS = [
    _ABSL,
    "@system_libs//:gmock",
    "@system_libs//:gtest_main",
]

def _plus(deps, added):
    """deps followed by those of `added` it does not already name."""
    return deps + [dep for dep in added if dep not in deps]

def _own_srcs(name):
    """[name + ".cc"] when that file exists, else [] (a header-only library)."""
    return native.glob([name + ".cc"], allow_empty = True)

def tqs1_cc_library(name, srcs = None, hdrs = None, deps = [], **kwargs):
    """A cc_library of <name>.cc and <name>.h that depends on Abseil.

    Args:
      name: the library's name.
      srcs: default [name + ".cc"] when that file exists, else none.
      hdrs: default [name + ".h"].
      deps: its dependencies; @system_libs//:absl is added.
      **kwargs: passed to cc_library unchanged.
    """
    native.cc_library(
        name = name,
        srcs = _own_srcs(name) if srcs == None else srcs,
        hdrs = [name + ".h"] if hdrs == None else hdrs,
        deps = _plus(deps, [_ABSL]),
        **kwargs
    )

def tqs1_cc_test(name, srcs = None, deps = [], size = "small", **kwargs):
    """A small gtest cc_test of <name>.cc with gmock and Abseil.

    Args:
      name: the test's name.
      srcs: default [name + ".cc"].
      deps: its dependencies; @system_libs//:absl, :gmock and :gtest_main
        are added where missing.
      size: the test's size, "small" unless said otherwise.
      **kwargs: passed to cc_test unchanged (args, data, tags, ...).
    """
    native.cc_test(
        name = name,
        srcs = [name + ".cc"] if srcs == None else srcs,
        size = size,
        deps = _plus(deps, _TEST_DEPS),
        **kwargs
    )
