import CFloatingPoint

/// Subnormal floats (|x| < 1.18e-38) cost a microcode assist per operation on x86, up to 100x
/// a normal one. Training produces them: Adam's first moment decays geometrically for weights
/// whose gradient is almost always zero (MNIST's border pixels). `withSubnormalsFlushedToZero`
/// runs a body with the processor flushing them to zero (flush-to-zero and denormals-are-zero,
/// as `torch.set_flush_denormal(True)`), then restores the previous mode. `ParallelLoop`'s
/// helper copies the caller's mode for each job, so results do not depend on the thread count.
package enum SubnormalFlushing {
    /// The calling thread's floating-point control word.
    static var currentMode: UInt32 { vae_floating_point_control() }

    static func setMode(_ mode: UInt32) { vae_set_floating_point_control(mode) }

    /// Runs `body` with flush-to-zero and denormals-are-zero set on the calling thread, then
    /// restores the previous mode (also when `body` throws).
    package static func withSubnormalsFlushedToZero<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let saved = currentMode
        setMode(saved | vae_flush_subnormals_bits())
        defer { setMode(saved) }
        return try body()
    }

    /// Whether the calling thread flushes subnormals now.
    package static var isFlushing: Bool {
        let bits = vae_flush_subnormals_bits()
        return bits != 0 && currentMode & bits == bits
    }
}
