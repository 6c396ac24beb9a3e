"""split_debug_info: the shipped binary without debug information, the symbols in a file beside it.

split_debug_info(name = "server", binary = ":server_unstripped", strip = True) writes
  <name>        the binary with every symbol and debug section removed (objcopy --strip-all),
                carrying a .gnu_debuglink to <name>.debug
  <name>.debug  the symbols and DWARF (objcopy --only-keep-debug): gdb, perf and addr2line find
                it through the debuglink when it sits beside the binary (or under .debug/, or
                /usr/lib/debug), e.g. `gdb bazel-bin/server/server core`
With strip = False (sanitizer builds, whose reports need the line tables in the binary) <name>
is a plain copy and no .debug file is written.
"""

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")

def _split_debug_info_impl(ctx):
    binary = ctx.executable.binary
    out = ctx.actions.declare_file(ctx.label.name)
    if not ctx.attr.strip:
        ctx.actions.run_shell(
            inputs = [binary],
            outputs = [out],
            command = 'cp -f "$1" "$2" && chmod u+w,a+x "$2"',
            arguments = [binary.path, out.path],
            mnemonic = "CopyBinary",
            progress_message = "Copying %s (debug info kept inline)" % out.short_path,
        )
        return [DefaultInfo(files = depset([out]), executable = out)]

    debug = ctx.actions.declare_file(ctx.label.name + ".debug")
    cc_toolchain = find_cpp_toolchain(ctx)
    objcopy = cc_toolchain.objcopy_executable
    ctx.actions.run_shell(
        inputs = depset([binary], transitive = [cc_toolchain.all_files]),
        outputs = [out, debug],
        # The debuglink records the .debug file's name and CRC, so it is written first.
        command = ('"$1" --only-keep-debug "$2" "$3" && ' +
                   '"$1" --strip-all --add-gnu-debuglink="$3" "$2" "$4"'),
        arguments = [objcopy, binary.path, debug.path, out.path],
        mnemonic = "SplitDebugInfo",
        progress_message = "Stripping %s (symbols in %s)" % (out.short_path, debug.basename),
    )
    return [
        DefaultInfo(files = depset([out, debug]), executable = out),
        OutputGroupInfo(debug_symbols = depset([debug])),
    ]

split_debug_info = rule(
    implementation = _split_debug_info_impl,
    attrs = {
        "binary": attr.label(executable = True, cfg = "target", mandatory = True),
        "strip": attr.bool(default = True),
        "_cc_toolchain": attr.label(default = Label("@bazel_tools//tools/cpp:current_cc_toolchain")),
    },
    executable = True,
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
    fragments = ["cpp"],
)
