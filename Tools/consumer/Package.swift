// swift-tools-version:5.10
// A package that uses BlazePose as a library, as an app would (used by Tests/CLITests and
// Tools/install_test.sh). It depends on the BlazePose package two folders up.
import PackageDescription

let package = Package(
    name: "consumer",
    platforms: [.macOS("15.0")],
    dependencies: [.package(name: "BlazePose", path: "../..")],
    targets: [
        .executableTarget(name: "consumer", dependencies: [.product(name: "BlazePose", package: "BlazePose")]),
    ]
)
