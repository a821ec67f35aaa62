"""C++ code from .proto files with the system protoc (protobuf 3.21).

Bazel's native proto_library would download @com_google_protobuf; this
genrule runs Debian's protoc instead.
"""

def cc_proto(name, src, deps = [], visibility = None):
    """Generates <src>.pb.{h,cc} and a cc_library `name` over them."""
    base = src[:-len(".proto")]
    native.genrule(
        name = name + "_gen",
        srcs = [src],
        outs = [base + ".pb.h", base + ".pb.cc"],
        cmd = "protoc --cpp_out=$(GENDIR) $(location %s)" % src,
    )
    native.cc_library(
        name = name,
        srcs = [base + ".pb.cc"],
        hdrs = [base + ".pb.h"],
        deps = deps + ["//third_party:protobuf"],
        visibility = visibility,
    )
