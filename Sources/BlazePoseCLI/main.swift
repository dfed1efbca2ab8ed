import ArgumentParser
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
        version: "blazepose \(blazePoseVersion)",
        subcommands: [DetectCommand.self, TrackCommand.self, InspectCommand.self, RunCommand.self, CompareCommand.self, BenchCommand.self, ProfileCommand.self])
}

// A reader that goes away (`… | head`, ffmpeg quitting) must make a write fail with EPIPE and a
// clear error, not kill the process silently with SIGPIPE.
signal(SIGPIPE, SIG_IGN)
BlazePoseCommand.main()
