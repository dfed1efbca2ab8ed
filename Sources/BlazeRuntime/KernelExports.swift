// Kernel-layer types that appear in this module's public API (`InterpreterOptions.gemmBackend`, `.gemmLanes`,
// `measureGemmPeakGFLOPS`) or that its tools report (OpenBLAS's core type, the build's SIMD width and FMA), re-exported so a
// client needs only `import BlazeRuntime` and never imports the kernel layer directly.
@_exported import enum BlazeKernels.GemmBackend
@_exported import enum BlazeKernels.GemmLanes
@_exported import enum BlazeKernels.OpenBLAS
@_exported import enum BlazeKernels.BuildTarget
// LOGISTIC over a buffer (`UnaryOperator.logistic`), for the pose pipeline's segmentation mask.
@_exported import class BlazeKernels.UnaryOperator

// The file-format helpers this module's public API uses (`ReferenceDump` reads `.npy` files into
// `NPYArray`s), so `import BlazeRuntime` brings them too.
@_exported import BlazeSupport
