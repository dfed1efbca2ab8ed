import Foundation

/// Finds the directory that holds the BlazePose `.tflite` files, in one documented order.
///
/// The first directory that holds *every* requested file wins:
/// 1. an explicit directory (`--weights DIR`, ``PoseLandmarkerOptions/weightsDirectory``); when
///    given, it is the only place looked at;
/// 2. `$BLAZEPOSE_WEIGHTS`;
/// 3. `./weights` (the working directory);
/// 4. next to the running executable, resolved through `/proc/self/exe` (not `argv[0]`, so a
///    binary called through `$PATH` or a symlink works): `<bin>/../share/blazepose/weights`, then,
///    for a binary inside a package's build folder (`.build/release/blazepose`), that package's `weights/`;
/// 5. the user's data directory: `$XDG_DATA_HOME/blazepose/weights` (default `~/.local/share/blazepose/weights`);
/// 6. `/usr/local/share/blazepose/weights`.
///
/// `Tools/setup.sh` (or `Tools/fetch-weights.sh`) installs the sha256-verified files into the
/// package's `weights/` and into step 6 when run as root, else step 5.
public struct WeightsLocator: Sendable {
    /// Which step of the search order a directory comes from.
    public enum Place: String, Sendable, CaseIterable {
        case explicit = "explicit directory"
        case environment = "$BLAZEPOSE_WEIGHTS"
        case workingDirectory = "./weights"
        case executable = "next to the executable"
        case userData = "user data directory"
        case system = "system data directory"
    }

    /// One directory of the search order.
    public struct Candidate: Sendable, Equatable {
        public var place: Place
        public var directory: URL
    }

    /// The environment variable of step 2.
    public static let environmentVariable = "BLAZEPOSE_WEIGHTS"
    /// Step 6.
    public static let systemDirectory = URL(fileURLWithPath: "/usr/local/share/blazepose/weights", isDirectory: true)

    /// The sha256 (hex) of every model file the pipeline knows, as pinned by `Tools/fetch-weights.sh`.
    public static let pinnedSHA256: [(file: String, sha256: String)] = [
        ("pose_detection.tflite", "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"),
        ("pose_landmark_lite.tflite", "0e0d22450724475de81b5074cf8deac54268cd9af73c883c02475b768e4ec7e4"),
        ("pose_landmark_full.tflite", "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
        ("pose_landmark_heavy.tflite", "652e230257daf572b6f255706973a9655b1d20dfe9190eff93bbee84a61d87ca"),
    ]

    public var environment: [String: String]
    public var currentDirectory: URL
    /// The running executable with symlinks resolved; nil when it cannot be found.
    public var executable: URL?

    /// A locator for this process (its environment, working directory and executable).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true),
                executable: URL? = WeightsLocator.currentExecutable()) {
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.executable = executable
    }

    /// The running executable: `/proc/self/exe` on Linux (the real file, whatever `argv[0]` says),
    /// `Bundle.main.executableURL` with symlinks resolved elsewhere.
    public static func currentExecutable() -> URL? {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        #endif
        return Bundle.main.executableURL?.resolvingSymlinksInPath()
    }

    /// The directories looked at, in order (only `explicit` when it is given).
    public func candidates(explicit: URL? = nil) -> [Candidate] {
        if let explicit { return [Candidate(place: .explicit, directory: explicit)] }
        var list: [Candidate] = []
        if let value = environment[Self.environmentVariable], !value.isEmpty {
            list.append(Candidate(place: .environment, directory: URL(fileURLWithPath: value, isDirectory: true)))
        }
        list.append(Candidate(place: .workingDirectory,
                              directory: currentDirectory.appendingPathComponent("weights", isDirectory: true)))
        if let executable {
            let bin = executable.deletingLastPathComponent()
            list.append(Candidate(place: .executable, directory: bin.deletingLastPathComponent()
                .appendingPathComponent("share/blazepose/weights", isDirectory: true).standardizedFileURL))
            if let package = Self.enclosingPackage(of: bin) {
                list.append(Candidate(place: .executable, directory: package.appendingPathComponent("weights", isDirectory: true)))
            }
        }
        list.append(Candidate(place: .userData, directory: userDataDirectory))
        list.append(Candidate(place: .system, directory: Self.systemDirectory))
        return list
    }

    /// Step 5: `$XDG_DATA_HOME/blazepose/weights`, default `~/.local/share/blazepose/weights`.
    public var userDataDirectory: URL {
        let base: URL
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            base = URL(fileURLWithPath: xdg, isDirectory: true)
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            base = URL(fileURLWithPath: home, isDirectory: true).appendingPathComponent(".local/share", isDirectory: true)
        }
        return base.appendingPathComponent("blazepose/weights", isDirectory: true)
    }

    /// The first candidate directory that holds every file of `files`.
    /// - Throws: ``BlazePoseError/weightsNotFound(files:searched:install:)`` listing every place
    ///   looked at and the command that installs the weights.
    public func locate(files: [String], explicit: URL? = nil) throws -> URL {
        let list = candidates(explicit: explicit)
        for candidate in list where files.allSatisfy({ Self.isFile(candidate.directory.appendingPathComponent($0)) }) {
            return candidate.directory
        }
        let searched = list.map { candidate -> String in
            let missing = files.filter { !Self.isFile(candidate.directory.appendingPathComponent($0)) }
            return "\(candidate.directory.path) (\(candidate.place.rawValue); missing \(missing.joined(separator: ", ")))"
        }
        throw BlazePoseError.weightsNotFound(files: files, searched: searched,
                                             install: Self.installInstructions(for: files))
    }

    /// How to install the files: the set-up command (with the absolute path of this package's
    /// `Tools/setup.sh` when its source tree is still where it was built, e.g. in a dependent
    /// package's `.build/checkouts/`), plus the heavy model's own step when it is asked for.
    public static func installInstructions(for files: [String] = []) -> String {
        var text = "install them with: " + installCommand
        if files.contains("pose_landmark_heavy.tflite") {
            text += "; the heavy model is not fetched automatically: download pose_landmark_heavy.tflite and install it with Tools/fetch-weights.sh --heavy FILE"
        }
        return text + " — or set $\(environmentVariable) to a directory that holds them"
    }

    /// `bash <package>/Tools/setup.sh`: installs the libraries and the sha256-verified weights
    /// where steps 5/6 find them (idempotent).
    public static var installCommand: String {
        if let root = sourcePackageRoot {
            return "bash \(root.appendingPathComponent("Tools/setup.sh").path)"
        }
        return "bash Tools/setup.sh (in a checkout of the BlazePose package; a package that depends on it has one under .build/checkouts/)"
    }

    /// The root of the BlazePose package this library was compiled from, if it still exists.
    public static var sourcePackageRoot: URL? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return isFile(root.appendingPathComponent("Tools/setup.sh")) ? root : nil
    }

    /// The nearest folder above `directory` (at most 6 levels) with a `Package.swift` and a `weights/` folder.
    static func enclosingPackage(of directory: URL) -> URL? {
        var dir = directory
        for _ in 0..<6 {
            var isDirectory: ObjCBool = false
            if isFile(dir.appendingPathComponent("Package.swift")),
               FileManager.default.fileExists(atPath: dir.appendingPathComponent("weights").path, isDirectory: &isDirectory),
               isDirectory.boolValue {
                return dir
            }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        return nil
    }

    static func isFile(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}
