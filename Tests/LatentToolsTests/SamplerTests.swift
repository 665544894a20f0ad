import Foundation
import LatentTools
import SafeTensors
import TensorCore
import VAE
import VAEModels
import Testing

@Suite struct SamplerTests {
    /// 3,000 points from three well-separated 2-d Gaussians with weights ½, ⅓, ⅙ and correlated
    /// covariances.
    static func threeClusters(seed: UInt64) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        let centres: [[Float]] = [[-4, 0], [3, 3], [3, -4]]
        let factors: [[Float]] = [[1, 0, 0.8, 0.6], [0.5, 0, -0.3, 0.4], [0.7, 0, 0, 0.2]]
        var rows: [Float] = []
        for (cluster, count) in [(0, 1500), (1, 1000), (2, 500)] {
            for _ in 0..<count {
                var e = [Float](repeating: 0, count: 2)
                e.withUnsafeMutableBufferPointer { generator.fillNormal($0) }
                let l = factors[cluster]
                rows += [centres[cluster][0] + l[0] * e[0], centres[cluster][1] + l[2] * e[0] + l[3] * e[1]]
            }
        }
        return rows
    }

    @Test func expectationMaximisationFindsTheClusters() throws {
        let mixture = GaussianMixture.fit(rows: Self.threeClusters(seed: 1), dimension: 2, components: 3, seed: 5)
        let order = mixture.means.indices.sorted { mixture.means[$0][0] + mixture.means[$0][1] < mixture.means[$1][0] + mixture.means[$1][1] }
        // Sorted by x + y: (-4, 0), (3, -4), (3, 3).
        let expected: [(mean: [Double], weight: Double, covariance: [Double])] = [
            ([-4, 0], 0.5, [1, 0.8, 0.8, 1]), ([3, -4], 1.0 / 6, [0.49, 0, 0, 0.04]), ([3, 3], 1.0 / 3, [0.25, -0.15, -0.15, 0.25]),
        ]
        for (index, truth) in zip(order, expected) {
            #expect(abs(mixture.weights[index] - truth.weight) < 0.02, "weight \(mixture.weights[index]) against \(truth.weight)")
            #expect(zip(mixture.means[index], truth.mean).allSatisfy { abs($0 - $1) < 0.1 }, "mean \(mixture.means[index]) against \(truth.mean)")
            #expect(zip(mixture.covariances[index], truth.covariance).allSatisfy { abs($0 - $1) < 0.1 }, "covariance \(mixture.covariances[index])")
        }
        #expect(mixture.iterations >= 1 && mixture.iterations < 100)
        #expect(abs(mixture.meanLogDensity(of: Self.threeClusters(seed: 1)) - (mixture.logLikelihood ?? 0)) < 1e-3)
    }

    @Test func theMixtureDrawsFromItsComponentsInProportion() {
        let mixture = GaussianMixture(weights: [0.75, 0.25], means: [[10, 0], [-10, 0]], covariances: [[1, 0, 0, 1], [4, 0, 0, 0.25]])!
        var generator = RandomGenerator(seed: 2)
        let z = mixture.latents(count: 8000, temperature: 1, using: &generator)
        let right = stride(from: 0, to: z.count, by: 2).filter { z[$0] > 0 }
        #expect(abs(Double(right.count) / 8000 - 0.75) < 0.02)
        let left = stride(from: 0, to: z.count, by: 2).filter { z[$0] < 0 }
        let spread = left.map { Double(z[$0 + 1] * z[$0 + 1]) }.reduce(0, +) / Double(left.count)
        #expect(abs(spread - 0.25) < 0.03, "the second component's y variance: \(spread)")
        let cold = mixture.latents(count: 100, temperature: 0, using: &generator)
        #expect(stride(from: 0, to: cold.count, by: 2).allSatisfy { abs(abs(cold[$0]) - 10) < 1e-6 && cold[$0 + 1] == 0 })
    }

    @Test func theMixtureFileRoundTripsAndDrawsTheSame() throws {
        let mixture = GaussianMixture.fit(rows: Self.threeClusters(seed: 3), dimension: 2, components: 3, seed: 1)
        let file = try SafeTensorsFile.decode(mixture.file(metadata: ["seed": "1"]).encoded(), file: "gmm.safetensors")
        let read = try GaussianMixture.read(file, path: "gmm.safetensors")
        var first = RandomGenerator(seed: 4), second = RandomGenerator(seed: 4)
        #expect(mixture.latents(count: 50, temperature: 1, using: &first) == read.latents(count: 50, temperature: 1, using: &second))
    }

    @Test func aBrokenMixtureFileIsRefusedByName() throws {
        let mixture = GaussianMixture(weights: [1], means: [[0, 0]], covariances: [[1, 0, 0, 1]])!
        var file = mixture.file(metadata: [:])
        file.tensors["covariances"] = .init(shape: [1, 2, 2], values: [1, 2, 2, 1])
        #expect(throws: SamplerFileError.self) { try GaussianMixture.read(file, path: "x.safetensors") }
        file = mixture.file(metadata: [:])
        file.tensors["means"] = .init(shape: [1, 3], values: [0, 0, 0])
        do {
            _ = try GaussianMixture.read(file, path: "x.safetensors")
            Issue.record("a mismatched shape was accepted")
        } catch { #expect(error.description.contains("x.safetensors") && error.description.contains("[K, d]")) }
        file = mixture.file(metadata: [:])
        file.metadata["kind"] = "image-classifier"
        #expect(throws: SamplerFileError.self) { try GaussianMixture.read(file, path: "x.safetensors") }
    }

    /// The second stage learns codes on a curved 2-d band that N(0, I) does not match: its
    /// draws land on the band (Dai & Wipf's point), and γ falls well below its start of 1.
    @Test func theSecondStageLearnsTheCodesDistribution() throws {
        var generator = RandomGenerator(seed: 6)
        var codes: [Float] = []
        for _ in 0..<4000 {
            let angle = Float.pi * generator.nextUniform()
            var e = [Float](repeating: 0, count: 2)
            e.withUnsafeMutableBufferPointer { generator.fillNormal($0, mean: 0, standardDeviation: 0.05) }
            let x: Float = 2 * cos(angle) + e[0], y: Float = 2 * sin(angle) + e[1]
            codes += [x, y]
        }
        var gammas: [Double] = []
        let model = TwoStageVAE.train(codes: codes, dimension: 2, epochs: 120, seed: 1, hiddenSize: 64) { _, _, gamma in gammas.append(gamma) }
        #expect(gammas.last! < 0.1, "γ: \(gammas)")
        var drawing = RandomGenerator(seed: 7)
        let z = model.latents(count: 1000, temperature: 1, using: &drawing)
        let radii: [Float] = stride(from: 0, to: z.count, by: 2).map { index -> Float in
            let x = z[index], y = z[index + 1]
            return (x * x + y * y).squareRoot()
        }
        let onBand = radii.filter { abs($0 - 2) < 0.3 }.count
        #expect(onBand > 850, "\(onBand) of 1000 draws within 0.3 of the band")
        let file = try SafeTensorsFile.decode(model.file(metadata: [:]).encoded(), file: "two.safetensors")
        var again = RandomGenerator(seed: 7)
        #expect(try TwoStageVAE.read(file, path: "two.safetensors").latents(count: 1000, temperature: 1, using: &again) == z)
    }
}

/// The prior sampler draws from a model's learned prior, not from N(0, I).
@Suite struct LearnedPriorSamplingTests {
    @Test func thePriorSamplerDrawsFromALearnedMixture() throws {
        StandardModelKinds.register()
        var configuration = MLPConfiguration(inputSize: 64, hiddenSizes: [8], latentSize: 2)
        configuration.prior = PriorSettings(kind: .mog, components: 2)
        var generator = RandomGenerator(seed: 1)
        let model = try MLPVAE(configuration, using: &generator)
        let prior = try #require(model.learnedPrior)
        let means = try #require(prior.means), logVariances = try #require(prior.logVariances)
        for (index, value) in [Float(10), 10, -10, -10].enumerated() { means.pointer[index] = value }
        for index in 0..<4 { logVariances.pointer[index] = Float(2 * log(0.1)) }
        var drawing = RandomGenerator(seed: 2)
        let z = PriorSampler(model: model).latents(count: 200, temperature: 1, using: &drawing)
        let nearFirst = stride(from: 0, to: z.count, by: 2).filter { abs(z[$0] - 10) < 0.5 && abs(z[$0 + 1] - 10) < 0.5 }.count
        let nearSecond = stride(from: 0, to: z.count, by: 2).filter { abs(z[$0] + 10) < 0.5 && abs(z[$0 + 1] + 10) < 0.5 }.count
        #expect(nearFirst + nearSecond == 200 && nearFirst > 70 && nearSecond > 70, "\(nearFirst), \(nearSecond)")
    }
}
