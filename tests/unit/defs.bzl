"""unit_tests: one cc_test per <name>_test.cc in the calling package (tests/unit/<pkg>/).

Each package of tests links only the layer it tests (`deps`), so a test of server/ds cannot
lean on the server core, and a layer that starts to need more shows up here first."""

def unit_tests(deps):
    for src in native.glob(["*_test.cc"]):
        name = src[:-len(".cc")]
        native.cc_test(
            name = name,
            size = "small",
            srcs = [src] + native.glob(
                [name + "_helper*.c", name + "_helper*.cc", "*.h"],
                allow_empty = True,
            ),
            linkstatic = True,
            deps = deps + ["//third_party:gtest_main"],
        )
