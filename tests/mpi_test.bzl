"""mpi_test: a GoogleTest program run by mpirun on several rank counts."""

def mpi_test(name, srcs, deps, ranks, size = "medium", data = [], args = []):
    """Builds `name`_bin and one sh_test `name`_np<N> per entry of `ranks`."""
    native.cc_binary(
        name = name + "_bin",
        testonly = True,
        srcs = srcs,
        deps = deps + [
            "//comm:mpi_test_main",
            "//third_party:gtest",
        ],
    )
    for n in ranks:
        native.sh_test(
            name = "%s_np%d" % (name, n),
            size = size,
            srcs = ["//tests:mpirun_test.sh"],
            args = [str(n), "$(location :%s_bin)" % name] + args,
            data = data + [":%s_bin" % name, "//deploy:mpirun_local.sh"],
        )
