// Kernel-layer types that appear in this module's public API (`InterpreterOptions.gemmBackend`,
// `measureGemmPeakGFLOPS`) or that its tools report (OpenBLAS's core type), re-exported so a
// client needs only `import BlazeRuntime` and never imports the kernel layer directly.
@_exported import enum BlazeKernels.GemmBackend
@_exported import enum BlazeKernels.OpenBLAS
