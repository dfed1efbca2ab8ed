// swift-tools-version:5.10
// No unsafeFlags here: the library must stay usable as a versioned dependency.
// CPU tuning flags (-Xswiftc -target-cpu -Xswiftc native) go on the command line (Tools/build.sh);
// FMA in the GEMM kernel follows from that target (CBlazeTarget).
import PackageDescription

let package = Package(
    name: "BlazePose",
    // The thread pool uses the Synchronization module (Atomic), available from macOS 15.
    platforms: [.macOS("15.0")],
    products: [
        .library(name: "BlazePose", targets: ["BlazePose"]),
        .library(name: "BlazeRuntime", targets: ["BlazeRuntime"]),
        .library(name: "TFLite", targets: ["TFLite"]),
        .executable(name: "blazepose", targets: ["BlazePoseCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries, found with pkg-config.
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        // Header only: the CPU features the build targets (follows -target-cpu; see target.h).
        .systemLibrary(name: "CBlazeTarget", path: "Sources/CBlazeTarget"),
        .systemLibrary(
            name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        // libjpeg-turbo's TurboJPEG API (errors by return code, no longjmp through Swift frames).
        .systemLibrary(
            name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]),

        // Layer 0: file-format and statistics helpers every layer shares (bounded regular-file
        // reads, NPY, JSON string escaping, median); no dependencies.
        .target(name: "BlazeSupport"),
        // Layer 1: the TFLite FlatBuffers reader.
        .target(name: "TFLite", dependencies: ["BlazeSupport", "CBlazeTarget"]),
        // Layer 2: raw-pointer kernels and their naive twins; the runtime on top.
        .target(name: "BlazeKernels", dependencies: ["BlazeSupport", "COpenBLAS", "CBlazeTarget"]),
        .target(name: "BlazeRuntime", dependencies: ["BlazeSupport", "TFLite", "BlazeKernels"]),
        // Layer 3: pose geometry (plain values), image I/O and resampling, the pipeline.
        .target(name: "PoseGeometry"),
        .target(name: "PoseImage", dependencies: ["BlazeSupport", "CBlazeTarget", "CPNG", "CTurboJPEG", "PoseGeometry"]),
        .target(name: "BlazePose", dependencies: ["BlazeSupport", "BlazeRuntime", "TFLite", "PoseGeometry", "PoseImage"]),
        // Layer 4: the command-line tool.
        .executableTarget(
            name: "BlazePoseCLI",
            dependencies: [
                "BlazePose", "BlazeRuntime", "TFLite", "BlazeSupport", "CBlazeTarget",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Helpers shared by the test targets (not a product).
        .target(name: "BlazeTestSupport", path: "Tests/Support"),
        .testTarget(name: "TFLiteTests", dependencies: ["TFLite", "BlazeSupport", "BlazeTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "KernelTests", dependencies: ["BlazeKernels", "BlazeTestSupport"]),
        .testTarget(name: "RuntimeTests", dependencies: ["BlazeRuntime", "TFLite", "BlazeTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "GeometryTests", dependencies: ["PoseGeometry"]),
        .testTarget(name: "ImageTests", dependencies: ["PoseImage", "PoseGeometry", "BlazeSupport", "BlazeTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "PoseTests", dependencies: ["BlazePose", "BlazeRuntime", "BlazeSupport", "BlazeTestSupport"]),
        // Runs the built `blazepose` binary (batch detect, installs) and a library-consumer package.
        .testTarget(name: "CLITests", dependencies: ["BlazePose"]),
    ]
)
