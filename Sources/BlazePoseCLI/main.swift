import ArgumentParser

struct BlazePoseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blazepose",
        abstract: "Pure-Swift BlazePose (MediaPipe Pose) engine.",
        subcommands: [DetectCommand.self, TrackCommand.self, DoctorCommand.self, InspectCommand.self, RunCommand.self, CompareCommand.self, BenchCommand.self, ProfileCommand.self])
}

BlazePoseCommand.main()
