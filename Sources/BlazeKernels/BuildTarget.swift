import CBlazeTarget

/// What this build of the kernels was compiled for (from `CBlazeTarget/target.h`, which follows
/// the `-target-cpu` of the build). For diagnostics (`blazepose doctor`).
public enum BuildTarget {
    /// Widest SIMD register the compiler may use, in bits: 512 (AVX-512), 256 (AVX/AVX2),
    /// 128 (SSE2 baseline x86-64, NEON), 0 if unknown.
    public static let simdBits = Int(BLAZE_TARGET_SIMD_BITS)
    /// The CPU target has fused multiply-add.
    public static let hasFMA = BLAZE_TARGET_FMA != 0
    /// The GEMM micro-kernel uses FMA (the target has it, or `-DBLAZE_FMA` forces it).
    public static var gemmUsesFMA: Bool { BlazeKernels.gemmUsesFMA }
    /// The native GEMM micro-kernels' vector width in this build (``GemmLanes/build``): 16 lanes
    /// (8×32 tiles) when the target has AVX-512, else 8 (6×16 tiles). Chosen at compile time.
    public static var gemmLanes: GemmLanes { .build }
    /// Whether dense convs on small maps get binary16 weight panels by default
    /// (``PanelPrecision/buildWidensHalves``).
    public static var halfPanelsByDefault: Bool { PanelPrecision.buildWidensHalves }
}
