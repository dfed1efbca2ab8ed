// Kernel-layer types that appear in this module's public API (`InterpreterOptions.gemmBackend`,
// `measureGemmPeakGFLOPS`) or that its tools report (OpenBLAS's core type), re-exported so a
// client needs only `import BlazeRuntime` and never imports the kernel layer directly.
@_exported import enum BlazeKernels.GemmBackend
@_exported import enum BlazeKernels.OpenBLAS

// The file-format helpers this module's public API uses (`ReferenceDump` reads `.npy` files into
// `NPYArray`s), so `import BlazeRuntime` brings them too.
@_exported import BlazeSupport
