"""Repository rules for the system libraries the build links against.

LibTorch and MPI can each be swapped without editing files, by an environment
variable read when Bazel fetches the repository (pass it with
`--repo_env=NAME=/path` or export it before `bazel build`):

  METARM_LIBTORCH   a LibTorch tree with include/ and lib/ (an unpacked
                    libtorch zip, or `<site-packages>/torch` of a PyTorch
                    install). Default: Debian's libtorch-dev under /usr.
  METARM_MPI_HOME   an MPI installation with include/ and lib/.
                    Default: Debian's OpenMPI.
  METARM_CUDA_HOME  CUDA and NCCL (include/ with cuda_runtime.h and nccl.h,
                    lib64/ with libcudart and libnccl), used by
                    --config=cuda. Default: /usr/local/cuda.
"""

_DEBIAN_LIBDIR = "/usr/lib/x86_64-linux-gnu"

def _linkopts_for(libdir, libs):
    opts = ["-L" + libdir, "-Wl,-rpath," + libdir]
    return opts + ["-l" + lib for lib in libs]

def _libtorch_impl(ctx):
    root = ctx.os.environ.get("METARM_LIBTORCH", "")
    if root:
        include = ctx.path(root + "/include")
        libdir = root + "/lib"
        if not include.exists:
            fail("METARM_LIBTORCH=%s has no include/ folder" % root)
        ctx.symlink(include, "include")
        libs = ["torch", "torch_cpu", "c10"]
        cuda = ctx.path(libdir + "/libtorch_cuda.so").exists
        if cuda:
            libs = ["torch_cuda", "c10_cuda"] + libs
        linkopts = _linkopts_for(libdir, libs)

        # Keep libtorch_cuda linked even though no symbol names it directly:
        # its static initialisers register the CUDA backend.
        if cuda:
            linkopts = ["-Wl,--no-as-needed"] + linkopts + ["-Wl,--as-needed"]
    else:
        for sub in ["torch", "ATen", "c10", "caffe2"]:
            ctx.symlink("/usr/include/" + sub, "include/" + sub)
        linkopts = _linkopts_for(_DEBIAN_LIBDIR, ["torch", "torch_cpu", "c10"])
        cuda = False
    ctx.file("BUILD", """
cc_library(
    name = "libtorch",
    hdrs = glob(["include/**/*.h", "include/**/*.hpp", "include/**/*.cuh"]),
    includes = ["include", "include/torch/csrc/api/include"],
    linkopts = {linkopts},
    visibility = ["//visibility:public"],
)
""".format(linkopts = repr(linkopts)))
    ctx.file("defs.bzl", "LIBTORCH_HAS_CUDA = %s\n" % cuda)

libtorch_repository = repository_rule(
    implementation = _libtorch_impl,
    environ = ["METARM_LIBTORCH"],
    local = True,
)

def _mpi_impl(ctx):
    root = ctx.os.environ.get("METARM_MPI_HOME", "")
    if root:
        include = root + "/include"
        libdir = root + "/lib"
    else:
        include = _DEBIAN_LIBDIR + "/openmpi/include"
        libdir = _DEBIAN_LIBDIR
    if not ctx.path(include + "/mpi.h").exists:
        fail("no mpi.h in %s (set METARM_MPI_HOME or run deploy/setup.sh)" % include)
    ctx.symlink(include, "include")
    ctx.file("BUILD", """
cc_library(
    name = "mpi",
    hdrs = glob(["include/**/*.h"]),
    includes = ["include"],
    # The deprecated MPI C++ bindings are not used and do not link.
    defines = ["OMPI_SKIP_MPICXX"],
    linkopts = {linkopts},
    visibility = ["//visibility:public"],
)
""".format(linkopts = repr(_linkopts_for(libdir, ["mpi"]))))

mpi_repository = repository_rule(
    implementation = _mpi_impl,
    environ = ["METARM_MPI_HOME"],
    local = True,
)

def _cuda_impl(ctx):
    root = ctx.os.environ.get("METARM_CUDA_HOME", "/usr/local/cuda")
    include = ctx.path(root + "/include")
    if include.exists:
        ctx.symlink(include, "include")
        linkopts = _linkopts_for(root + "/lib64", ["nccl", "cudart"])
        body = """
cc_library(
    name = "cuda",
    hdrs = glob(["include/**"]),
    includes = ["include"],
    linkopts = {linkopts},
    visibility = ["//visibility:public"],
)
""".format(linkopts = repr(linkopts))
    else:
        # Only --config=cuda builds use it; they fail with this message.
        body = """
cc_library(
    name = "cuda",
    srcs = ["missing_cuda.cc"],
    visibility = ["//visibility:public"],
)
"""
        ctx.file("missing_cuda.cc", '#error "no CUDA at %s: set METARM_CUDA_HOME"\n' % root)
    ctx.file("BUILD", body)

cuda_repository = repository_rule(
    implementation = _cuda_impl,
    environ = ["METARM_CUDA_HOME"],
    local = True,
)
