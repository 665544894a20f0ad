import Foundation

/// xoshiro256** (Blackman & Vigna), seeded through SplitMix64: fast, seedable and, for one
/// seed, bit-identical from run to run and machine to machine. Its whole state is four words,
/// so a checkpoint can store it and a resumed run continues the same stream.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    /// The four words of xoshiro256**'s state.
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose state is SplitMix64's first four outputs from `seed`.
    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    /// Restores a generator from `state` (as saved from another generator).
    public init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "xoshiro256** state must be four words, not all zero")
        self.state = (state[0], state[1], state[2], state[3])
    }

    /// The state as an array, as a checkpoint stores it (see `init(state:)`).
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    /// Two generators are equal when their states are: they will produce the same stream.
    public static func == (a: RandomGenerator, b: RandomGenerator) -> Bool { a.stateWords == b.stateWords }

    /// The next 64 random bits (xoshiro256**), advancing the state.
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    @inline(__always)
    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1), from the top 24 bits (every value a multiple of 2^-24).
    @inline(__always)
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * 0x1.0p-24
    }

    /// Uniform in [low, high).
    package mutating func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>, low: Float = 0, high: Float = 1) {
        let width = high - low
        for i in buffer.indices { buffer[i] = low + width * nextUniform() }
    }

    /// Normal(mean, std) by Box-Muller: two uniforms give two independent normals.
    package mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>, mean: Float = 0, standardDeviation: Float = 1) {
        var i = 0
        while i < buffer.count {
            let u1 = 1 - nextUniform()  // (0, 1]: log is finite
            let u2 = nextUniform()
            let radius = (-2 * Foundation.log(u1)).squareRoot() * standardDeviation
            let angle = 2 * Float.pi * u2
            buffer[i] = mean + radius * Foundation.cos(angle)
            if i + 1 < buffer.count { buffer[i + 1] = mean + radius * Foundation.sin(angle) }
            i += 2
        }
    }

    /// A uniformly random permutation of 0..<count (Fisher-Yates).
    public mutating func permutation(_ count: Int) -> [Int] {
        var indices = Array(0..<count)
        shufflePermutation(&indices)
        return indices
    }

    /// Shuffles `indices` in place (Fisher-Yates), with a bias-free bounded draw.
    public mutating func shufflePermutation(_ indices: inout [Int]) {
        guard indices.count > 1 else { return }
        for i in stride(from: indices.count - 1, to: 0, by: -1) {
            let j = Int(next(upperBound: UInt64(i + 1)))
            indices.swapAt(i, j)
        }
    }
}

extension Tensor {
    /// Samples from Normal(mean, std) of `shape`.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
                                    using generator: inout RandomGenerator, requiresGradient: Bool = false) -> Tensor {
        let tensor = Tensor(shape: shape, storage: TensorStorage(uninitializedCount: shape.reduce(1, *)), requiresGradient: requiresGradient)
        generator.fillNormal(tensor.storage.buffer, mean: mean, standardDeviation: standardDeviation)
        return tensor
    }

    /// Samples from Uniform[low, high) of `shape`.
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                                     using generator: inout RandomGenerator, requiresGradient: Bool = false) -> Tensor {
        let tensor = Tensor(shape: shape, storage: TensorStorage(uninitializedCount: shape.reduce(1, *)), requiresGradient: requiresGradient)
        generator.fillUniform(tensor.storage.buffer, low: low, high: high)
        return tensor
    }
}
