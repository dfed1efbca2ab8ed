import ArgumentParser
import BlazePose
import BlazeRuntime
import BlazeSupport
import Foundation

/// `blazepose doctor`: where the weights are looked for and found (with their hashes), and what
/// this build was compiled for.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Show the weights search order, where each model file was found (sha256 vs the pinned hash), the build's SIMD width, FMA and OpenBLAS core, and what fresh memory costs here (a model load's main cost).",
        aliases: ["weights"])

    @Option(help: "Also look at this directory first, as --weights DIR does for detect/track.") var weights: String?

    func run() throws {
        let locator = WeightsLocator()
        let candidates = locator.candidates(explicit: weights.map { URL(fileURLWithPath: $0, isDirectory: true) })
        print("weights search order (the first directory holding the detector and the chosen landmark model wins):")
        for (i, c) in candidates.enumerated() {
            let exists = FileManager.default.fileExists(atPath: c.directory.path)
            print("  \(i + 1). \(c.directory.path)  [\(c.place.rawValue)]\(exists ? "" : "  (absent)")")
        }
        print("model files (first place holding each; sha256 vs the pinned hash):")
        var anyBad = false
        for (file, pinned) in WeightsLocator.pinnedSHA256 {
            guard let c = candidates.first(where: { FileManager.default.fileExists(atPath: $0.directory.appendingPathComponent(file).path) }) else {
                print("  \(pad(file, 28)) not found" + (file.contains("heavy") ? " (optional: Tools/fetch-weights.sh --heavy FILE)" : ""))
                continue
            }
            let path = c.directory.appendingPathComponent(file).path
            let status: String
            if let data = FileManager.default.contents(atPath: path) {
                let found = SHA256.hex(data)
                status = found == pinned ? "sha256 ok" : "sha256 MISMATCH (found \(found), pinned \(pinned))"
                anyBad = anyBad || found != pinned
            } else {
                status = "unreadable"
                anyBad = true
            }
            print("  \(pad(file, 28)) \(path)  \(status)")
        }
        print("install: \(WeightsLocator.installCommand)")
        print("build: SIMD \(BuildTarget.simdBits)-bit, FMA in the CPU target: \(BuildTarget.hasFMA ? "yes" : "no"), GEMM micro-kernel FMA: \(BuildTarget.gemmUsesFMA ? "yes" : "no"), GEMM backend by default: \(GemmBackend.preferred), native GEMM micro-kernels: \(BuildTarget.gemmLanes), binary16 weight panels by default: \(BuildTarget.halfPanelsByDefault ? "yes (outputs of 8x8 and smaller)" : "no")")
        if !BuildTarget.hasFMA {
            print("  (a build without CPU flags: bash Tools/build.sh builds with -target-cpu native, about 1.7x faster)")
        }
        let core = OpenBLAS.coreName
        let slow = core.lowercased().contains("prescott") || core.lowercased().contains("unknown")
        print("OpenBLAS core: \(core)" + (slow ? "  (misdetected: sgemm runs far below this CPU's speed; set OPENBLAS_CORETYPE=SkylakeX or Haswell)" : ""))
        // Fresh memory, as a model load takes it (detector + full, one after the other: about 40 MB:
        // the files' copies, the packed weights, the arenas): three 8 MiB probes, since its cost
        // varies from one to the next where the host backs guest memory lazily.
        let probes = (0..<3).map { _ in ActivationArena.faultInMilliseconds(bytes: 8 << 20) / 8 }
        let middle = probes.sorted()[1]
        print("memory: faulting in fresh pages took " + probes.map { String(format: "%.2f", $0) }.joined(separator: ", ")
              + " ms/MiB (3 probes of 8 MiB, 2 MiB pages while they are fast); loading the detector and the full model faults in "
              + "about 40 MB, ~" + String(format: "%.0f", middle * 40) + " ms of its time at the middle figure")
        print("memory pages: " + (HugePages.useHugePages
              ? "2 MiB huge pages (fewer than \(HugePages.slowHugePagesToSwitch) took over \(HugePages.slowHugePageMilliseconds) ms to fault in)"
              : "4 KiB pages (\(HugePages.slowHugePagesToSwitch) huge pages took over \(HugePages.slowHugePageMilliseconds) ms to fault in, as on a host that takes freed memory back)"))
        if let cache = WeightCache.user {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: cache.directory))?.filter { $0.hasSuffix(".bpw") } ?? []
            let bytes = names.reduce(0) { total, name in
                total + ((try? FileManager.default.attributesOfItem(atPath: cache.directory + "/" + name)[.size] as? Int) ?? 0)
            }
            print("packed-weight cache: \(cache.directory) (\(names.count) file(s), \(String(format: "%.1f", Double(bytes) / 1e6)) MB; "
                  + "at most \(WeightCache.maximumFiles) files; BLAZEPOSE_WEIGHT_CACHE=off or --no-weight-cache to pack on every load)")
        } else {
            print("packed-weight cache: off (BLAZEPOSE_WEIGHT_CACHE=off, or no $HOME): every load packs the weights")
        }
        if anyBad { throw ExitCode.failure }
    }
}
