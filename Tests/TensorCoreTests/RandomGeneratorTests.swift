import Testing
import TensorCore

@Suite struct RandomGeneratorTests {
    /// First outputs of xoshiro256** seeded by SplitMix64(0), computed independently (Python).
    @Test func xoshiroMatchesAnIndependentImplementation() {
        var generator = RandomGenerator(seed: 0)
        let expected: [UInt64] = [0x99EC5F36CB75F2B4, 0xBF6E1F784956452A, 0x1A5F849D4933E6E0, 0x6AA594F1262D2D2C]
        #expect((0..<4).map { _ in generator.next() } == expected)
    }

    @Test func sameSeedGivesBitIdenticalStreams() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42), c = RandomGenerator(seed: 43)
        var x = [Float](repeating: 0, count: 1001), y = x, z = x
        x.withUnsafeMutableBufferPointer { a.fillNormal($0) }
        y.withUnsafeMutableBufferPointer { b.fillNormal($0) }
        z.withUnsafeMutableBufferPointer { c.fillNormal($0) }
        #expect(x == y)
        #expect(x != z)
        var restored = RandomGenerator(state: a.stateWords)
        #expect(restored.next() == a.next())
    }

    @Test func normalSamplesHaveTheRequestedMoments() {
        var generator = RandomGenerator(seed: 9)
        let n = 400_000
        var x = [Float](repeating: 0, count: n)
        x.withUnsafeMutableBufferPointer { generator.fillNormal($0, mean: 2, standardDeviation: 3) }
        let mean = x.reduce(0.0) { $0 + Double($1) } / Double(n)
        let variance = x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(n)
        // Standard errors: 3 / sqrt(n) = 0.0047 for the mean; about 0.02 for the variance.
        #expect(abs(mean - 2) < 0.03)
        #expect(abs(variance - 9) < 0.12)
        let withinOneSigma = Double(x.filter { abs($0 - 2) < 3 }.count) / Double(n)
        #expect(abs(withinOneSigma - 0.6827) < 0.005)
    }

    @Test func uniformSamplesFillTheIntervalEvenly() {
        var generator = RandomGenerator(seed: 4)
        var x = [Float](repeating: 0, count: 100_000)
        x.withUnsafeMutableBufferPointer { generator.fillUniform($0, low: -1, high: 3) }
        #expect(x.allSatisfy { $0 >= -1 && $0 < 3 })
        var histogram = [Int](repeating: 0, count: 4)
        for v in x { histogram[Int(v + 1)] += 1 }
        #expect(histogram.allSatisfy { abs($0 - 25_000) < 800 })
    }

    @Test func permutationContainsEveryIndexOnce() {
        var generator = RandomGenerator(seed: 1)
        let permutation = generator.permutation(1000)
        #expect(permutation.sorted() == Array(0..<1000))
        #expect(permutation != Array(0..<1000))
    }
}
