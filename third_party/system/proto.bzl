"""C++ code from .proto files with the system protoc (protobuf 3.21).

Bazel's native proto_library would download @com_google_protobuf; this
genrule runs Debian's protoc instead.
"""

def cc_proto(name, src, deps = [], imports = [], visibility = None, testonly = False):
    """Generates <src>.pb.{h,cc} and a cc_library `name` over them.

    Args:
      name: the cc_library's name.
      src: the .proto file.
      deps: the cc_proto targets of the imported files.
      imports: the imported .proto files (labels), paths from the workspace root.
      visibility: the usual.
      testonly: the usual.
    """
    base = src[:-len(".proto")]
    native.genrule(
        name = name + "_gen",
        srcs = [src] + imports,
        outs = [base + ".pb.h", base + ".pb.cc"],
        cmd = "protoc -I. --cpp_out=$(GENDIR) $(location %s)" % src,
        testonly = testonly,
    )
    native.cc_library(
        name = name,
        srcs = [base + ".pb.cc"],
        hdrs = [base + ".pb.h"],
        deps = deps + ["//third_party:protobuf"],
        visibility = visibility,
        testonly = testonly,
    )
