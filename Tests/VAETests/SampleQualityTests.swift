import Datasets
import Foundation
import TensorCore
import Testing
import VAEEvaluation

@Suite struct SampleQualityTests {
    // MARK: - Fréchet distance: closed forms

    /// Commuting (diagonal) covariances: d² = ‖μ₁ − μ₂‖² + Σ_i (σ₁ᵢ − σ₂ᵢ)².
    @Test func theFrechetDistanceOfDiagonalGaussiansIsTheirClosedForm() {
        let a = GaussianFit(mean: [0, 1, 2], covariance: [4, 0, 0, 0, 1, 0, 0, 0, 9], count: 100)
        let b = GaussianFit(mean: [1, 1, 0], covariance: [1, 0, 0, 0, 1, 0, 0, 0, 0.25], count: 100)
        let expected = (1.0 + 0 + 4) + (1.0 + 0 + 6.25)
        #expect(abs(a.frechetDistance(to: b) - expected) < 1e-9, "\(a.frechetDistance(to: b)) against \(expected)")
        #expect(abs(a.frechetDistance(to: a)) < 1e-9)
    }

    /// Covariances that do not commute, in 2-d: the eigenvalues of Σ₁Σ₂ are non-negative, so
    /// tr (Σ₁Σ₂)^{1/2} = √(tr Σ₁Σ₂ + 2 √det Σ₁Σ₂).
    @Test func theFrechetDistanceOfRotatedGaussiansIsTheTwoByTwoClosedForm() {
        let s1 = [2.0, 0.6, 0.6, 1.0], s2 = [0.5, -0.3, -0.3, 3.0]
        let a = GaussianFit(mean: [0.5, -1], covariance: s1, count: 10), b = GaussianFit(mean: [0, 0.5], covariance: s2, count: 10)
        let product = [s1[0] * s2[0] + s1[1] * s2[2], s1[0] * s2[1] + s1[1] * s2[3], s1[2] * s2[0] + s1[3] * s2[2], s1[2] * s2[1] + s1[3] * s2[3]]
        let trace = product[0] + product[3], determinant = product[0] * product[3] - product[1] * product[2]
        let crossTrace = (trace + 2 * determinant.squareRoot()).squareRoot()
        let expected = 0.25 + 2.25 + (s1[0] + s1[3]) + (s2[0] + s2[3]) - 2 * crossTrace
        #expect(abs(a.frechetDistance(to: b) - expected) < 1e-9, "\(a.frechetDistance(to: b)) against \(expected)")
    }

    // MARK: - KID and precision/recall against plain loops

    static func normalRows(_ count: Int, dimension: Int, shift: Float = 0, scale: Float = 1, seed: UInt64) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        var values = [Float](repeating: 0, count: count * dimension)
        values.withUnsafeMutableBufferPointer { generator.fillNormal($0, mean: shift, standardDeviation: scale) }
        return values
    }

    /// The unbiased MMD² by its definition, in Double.
    static func plainMMD2(_ x: [Float], _ y: [Float], dimension d: Int) -> Double {
        let m = x.count / d
        func k(_ a: [Float], _ i: Int, _ b: [Float], _ j: Int) -> Double {
            var dot = 0.0
            for t in 0..<d { dot += Double(a[i * d + t]) * Double(b[j * d + t]) }
            return pow(dot / Double(d) + 1, 3)
        }
        var xx = 0.0, yy = 0.0, xy = 0.0
        for i in 0..<m {
            for j in 0..<m {
                if i != j { xx += k(x, i, x, j); yy += k(y, i, y, j) }
                xy += k(x, i, y, j)
            }
        }
        let mm = Double(m)
        return xx / (mm * (mm - 1)) + yy / (mm * (mm - 1)) - 2 * xy / (mm * mm)
    }

    @Test func theKernelDistanceIsTheUnbiasedMMDOfItsDefinition() {
        let x = Self.normalRows(60, dimension: 5, seed: 1), y = Self.normalRows(60, dimension: 5, shift: 0.3, seed: 2)
        let fast = KernelDistance.unbiasedMMD2(x, y, dimension: 5), plain = Self.plainMMD2(x, y, dimension: 5)
        #expect(abs(fast - plain) < 1e-4 * max(1, abs(plain)), "\(fast) against \(plain)")
    }

    /// Unbiased: sets from one distribution average near zero (either sign); a shifted set is far.
    @Test func theKernelDistanceIsNearZeroForOneDistributionAndLargeForTwo() {
        var generator = RandomGenerator(seed: 3)
        let real = Self.normalRows(2000, dimension: 8, seed: 4)
        let same = KernelDistance(real: real, generated: Self.normalRows(2000, dimension: 8, seed: 5), dimension: 8, subsets: 20, subsetSize: 500, using: &generator)
        let shifted = KernelDistance(real: real, generated: Self.normalRows(2000, dimension: 8, shift: 0.5, seed: 6), dimension: 8, subsets: 20, subsetSize: 500, using: &generator)
        #expect(abs(same.mean) < 3 * same.standardDeviation / Double(20).squareRoot() + 1e-3, "\(same)")
        #expect(shifted.mean > 20 * max(abs(same.mean), same.standardDeviation), "\(shifted) against \(same)")
    }

    /// Precision and recall by their definition: balls of the k-th neighbour's distance.
    static func plainPrecisionRecall(real: [Float], generated: [Float], dimension d: Int, k: Int) -> (Double, Double) {
        func distance(_ a: [Float], _ i: Int, _ b: [Float], _ j: Int) -> Double {
            var sum = 0.0
            for t in 0..<d { sum += pow(Double(a[i * d + t]) - Double(b[j * d + t]), 2) }
            return sum
        }
        func radii(_ set: [Float]) -> [Double] {
            let n = set.count / d
            return (0..<n).map { i in (0..<n).filter { $0 != i }.map { distance(set, i, set, $0) }.sorted()[k - 1] }
        }
        func share(_ points: [Float], _ manifold: [Float], _ radii: [Double]) -> Double {
            let n = points.count / d, m = manifold.count / d
            return Double((0..<n).filter { i in (0..<m).contains { distance(points, i, manifold, $0) <= radii[$0] } }.count) / Double(n)
        }
        return (share(generated, real, radii(real)), share(real, generated, radii(generated)))
    }

    @Test func precisionAndRecallAreTheSharesInsideTheNeighbourBalls() {
        let real = Self.normalRows(300, dimension: 4, seed: 7), generated = Self.normalRows(250, dimension: 4, shift: 0.7, scale: 0.6, seed: 8)
        let fast = PrecisionRecall(real: real, generated: generated, dimension: 4, neighbours: 3)
        let (precision, recall) = Self.plainPrecisionRecall(real: real, generated: generated, dimension: 4, k: 3)
        #expect(abs(fast.precision - precision) < 0.5 / 250 && abs(fast.recall - recall) < 0.5 / 300, "\(fast) against \(precision), \(recall)")
        #expect(fast.precision > fast.recall, "a narrow set inside the data: high precision, low recall; \(fast)")
        let same = PrecisionRecall(real: real, generated: real, dimension: 4, neighbours: 3)
        #expect(same.precision == 1 && same.recall == 1)
    }

    @Test func tooFewVectorsAreNamed() {
        let settings = SampleQuality.Settings()
        #expect(settings.problem(generated: 100, real: 10_000, dimension: 128)?.contains("more vectors than the 128 feature dimensions") == true)
        #expect(settings.problem(generated: 10_000, real: 10_000, dimension: 128) == nil)
    }

    @Test func theSameSeedGivesTheSameFiguresBitForBit() {
        let real = Self.normalRows(1500, dimension: 6, seed: 9), generated = Self.normalRows(1500, dimension: 6, shift: 0.2, seed: 10)
        var settings = SampleQuality.Settings()
        settings.subsets = 10
        var first = RandomGenerator(seed: 11), second = RandomGenerator(seed: 11)
        #expect(SampleQuality(real: real, generated: generated, dimension: 6, settings: settings, using: &first)
                == SampleQuality(real: real, generated: generated, dimension: 6, settings: settings, using: &second))
    }

    // MARK: - The shipped feature network: is the metric sane?

    static let mnistFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("data/mnist")

    static func features(_ network: ImageClassifier, _ pixels: [Float]) -> [Float] { network.featuresAndPredictions(images: pixels).features }

    static func fid(_ network: ImageClassifier, _ a: [Float], _ b: [Float]) -> Double {
        GaussianFit(features: features(network, a), dimension: network.featureSize)
            .frechetDistance(to: GaussianFit(features: features(network, b), dimension: network.featureSize))
    }

    @Test func theShippedNetworksLoadWithTheirRecordedAccuracy() throws {
        for (name, least) in [("mnist", 0.99), ("fashion-mnist", 0.90)] {
            let url = try #require(FeatureNetwork.shipped(forDataset: name), "\(name)'s feature network is shipped")
            let (network, accuracy) = try ImageClassifier.load(from: url)
            #expect(network.featureSize == 128 && network.imageShape == .mnist)
            #expect((accuracy ?? 0) >= least, "\(name): \(accuracy ?? 0)")
        }
        #expect(FeatureNetwork.shipped(forDataset: "cifar") == nil)
    }

    /// The train and test sets are the same distribution; noise of σ = 0.3 (clipped to [0, 1]) is
    /// a different one. All 60,000 training images: the Fréchet distance of a finite sample is
    /// biased upwards, and the more so the fewer the images.
    @Test func trainAndTestAreCloseAgainstNoisyImages() throws {
        let network = try #require(try FeatureNetwork.loadShipped(forDataset: "mnist"))
        let catalog = DatasetCatalog(dataDirectory: Self.mnistFolder)
        let test = try catalog.load(.mnist, split: .test), train = try catalog.load(.mnist, split: .train)
        let between = Self.fid(network, train.pixels, test.pixels)
        let noisy = Self.fid(network, test.pixels, Corruption.noise(0.3).apply(to: test, seed: 1).pixels)
        #expect(between < 0.01 * noisy, "train-test \(between), test-noisy \(noisy)")
    }

    /// Each corruption, made stronger in five steps, moves the distance up every step.
    @Test(arguments: [
        [Corruption.noise(0.05), .noise(0.1), .noise(0.2), .noise(0.3), .noise(0.4)],
        [Corruption.blur(0.5), .blur(1), .blur(1.5), .blur(2), .blur(2.5)],
        [Corruption.crop(26), .crop(24), .crop(22), .crop(20), .crop(18)],
    ])
    func theDistanceRisesAlongACorruptionLadder(_ ladder: [Corruption]) throws {
        let network = try #require(try FeatureNetwork.loadShipped(forDataset: "mnist"))
        let test = try DatasetCatalog(dataDirectory: Self.mnistFolder).load(.mnist, split: .test).prefix(5000)
        let distances = ladder.map { Self.fid(network, test.pixels, $0.apply(to: test, seed: 2).pixels) }
        #expect(zip(distances, distances.dropFirst()).allSatisfy { $0 < $1 }, "\(ladder): \(distances)")
        #expect(distances[0] > 0)
    }
}

/// Corruptions of grey images for the sanity tests: Gaussian noise (clipped to [0, 1]), a
/// Gaussian blur, and a random crop resized back (bilinear).
enum Corruption: CustomStringConvertible, Sendable {
    case noise(Float)
    case blur(Double)
    case crop(Int)

    var description: String {
        switch self {
        case let .noise(sigma): "noise σ = \(sigma)"
        case let .blur(sigma): "blur σ = \(sigma)"
        case let .crop(size): "crop \(size)"
        }
    }

    func apply(to dataset: ImageDataset, seed: UInt64) -> ImageDataset {
        var generator = RandomGenerator(seed: seed)
        let (height, width) = (dataset.shape.height, dataset.shape.width), size = height * width
        var pixels = dataset.pixels
        switch self {
        case let .noise(sigma):
            var noise = [Float](repeating: 0, count: pixels.count)
            noise.withUnsafeMutableBufferPointer { generator.fillNormal($0, mean: 0, standardDeviation: sigma) }
            for i in pixels.indices { pixels[i] = min(max(pixels[i] + noise[i], 0), 1) }
        case let .blur(sigma):
            let radius = Int((3 * sigma).rounded(.up))
            let weights = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * sigma * sigma))) }
            let total = weights.reduce(0, +)
            let kernel = weights.map { $0 / total }
            for image in 0..<dataset.count {
                let base = image * size
                var rows = [Float](repeating: 0, count: size)
                for y in 0..<height { for x in 0..<width {
                    var sum: Float = 0
                    for t in -radius...radius where (0..<width).contains(x + t) { sum += kernel[t + radius] * dataset.pixels[base + y * width + x + t] }
                    rows[y * width + x] = sum
                } }
                for y in 0..<height { for x in 0..<width {
                    var sum: Float = 0
                    for t in -radius...radius where (0..<height).contains(y + t) { sum += kernel[t + radius] * rows[(y + t) * width + x] }
                    pixels[base + y * width + x] = sum
                } }
            }
        case let .crop(side):
            for image in 0..<dataset.count {
                let base = image * size
                let top = Int(generator.next() % UInt64(height - side + 1)), left = Int(generator.next() % UInt64(width - side + 1))
                for y in 0..<height { for x in 0..<width {
                    let sy = Float(top) + (Float(y) + 0.5) * Float(side) / Float(height) - 0.5
                    let sx = Float(left) + (Float(x) + 0.5) * Float(side) / Float(width) - 0.5
                    let y0 = min(max(Int(sy.rounded(.down)), top), top + side - 1), x0 = min(max(Int(sx.rounded(.down)), left), left + side - 1)
                    let y1 = min(y0 + 1, top + side - 1), x1 = min(x0 + 1, left + side - 1)
                    let fy = min(max(sy - Float(y0), 0), 1), fx = min(max(sx - Float(x0), 0), 1)
                    func at(_ yy: Int, _ xx: Int) -> Float { dataset.pixels[base + yy * width + xx] }
                    pixels[base + y * width + x] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1))
                } }
            }
        }
        return dataset.replacingPixels(pixels)
    }
}
