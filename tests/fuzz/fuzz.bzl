"""One fuzz target, built as a libFuzzer binary and as a corpus replay test.

Example:

    tqs1_fuzz_target(
        name = "address",                 # corpus in corpus/address/
        srcs = ["address_fuzzer.cc"],     # defines LLVMFuzzerTestOneInput
        deps = ["//reconciler:address"],
    )

gives :address_fuzzer (tags = ["manual"]; build it with --config=fuzz, see
tests/fuzz/run.sh) and :address_replay_test (small; part of //...).
"""

def tqs1_fuzz_target(name, srcs, deps):
    """Declares the library, fuzzer binary and replay test of one target.

    Args:
      name: the target's name; its corpus lives in corpus/<name>/.
      srcs: the source defining LLVMFuzzerTestOneInput.
      deps: what it needs (":fuzz_target" is added).
    """
    native.cc_library(
        name = name + "_target",
        srcs = srcs,
        deps = deps + [":fuzz_target"],
        alwayslink = True,
    )

    # libFuzzer supplies main(); --config=fuzz links -fsanitize=fuzzer.
    native.cc_binary(
        name = name + "_fuzzer",
        deps = [":" + name + "_target"],
        tags = ["manual"],
    )

    native.cc_test(
        name = name + "_replay_test",
        size = "small",
        args = ["tests/fuzz/corpus/" + name],
        data = native.glob(["corpus/" + name + "/**"]),
        deps = [
            ":" + name + "_target",
            ":replay_main",
        ],
    )
