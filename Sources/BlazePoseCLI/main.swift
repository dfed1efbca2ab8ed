import ArgumentParser
import BlazeRuntime
import CBlazeTarget
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `blazepose --version`.
let blazePoseVersion = "0.1.0 (MediaPipe Pose 0.10.14 models)"

struct BlazePoseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blazepose",
        abstract: "Pure-Swift BlazePose (MediaPipe Pose) engine.",
        version: "blazepose \(blazePoseVersion), \(BuildTarget.gemmLanes) GEMM micro-kernels (SIMD \(BuildTarget.simdBits)-bit build)",
        subcommands: [DetectCommand.self, TrackCommand.self, DoctorCommand.self, InspectCommand.self, RunCommand.self, CompareCommand.self, BenchCommand.self, ProfileCommand.self])
}

// A reader of standard output that goes away ends the process quietly with status 141 (SIGPIPE),
// even when the parent started us with SIGPIPE ignored (see OutputWriter).
signal(SIGPIPE, SIG_DFL)

// OpenBLAS's idle server threads spin for ~0.1 s after the library loads; stop them before
// anything else runs (see `OpenBLAS.useSingleThread`).
OpenBLAS.useSingleThread()

#if canImport(Glibc)
// Arrays a frame allocates and frees again (the crop's float input, copies of the model outputs:
// about 1.8 MB a frame with the full model) come from the heap and stay mapped, not from a fresh
// mmap each time whose pages fault in and are zeroed every frame (`blaze_keep_freed_heap_mapped`).
// `track` of 48 frames with lite: 17,229 → 1,839 page faults, 166 → 186 frames/s; `detect
// --model full` peak RSS 49.2 → 49.9 MB (README, "Memory between frames").
blaze_keep_freed_heap_mapped()
#endif

// ArgumentParser's `main()`, with its messages (help, usage errors) written through OutputWriter,
// so that a failing standard output or error is reported, not a trap in FileHandle.
do {
    var command = try BlazePoseCommand.parseAsRoot()
    try command.run()
} catch {
    let code = BlazePoseCommand.exitCode(for: error)
    let message = BlazePoseCommand.fullMessage(for: error)
    if !message.isEmpty {
        if code == .success { print(message) } else { printError(message + "\n") }
    }
    exit(code.rawValue)
}
