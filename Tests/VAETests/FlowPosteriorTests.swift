import Foundation
import NN
import SafeTensors
import TensorCore
import Testing
import VAE
import VAEModels
import _TestSupport

/// The inverse autoregressive flow: its map and log-determinant against Double with finite
/// differences, the closed form of one dimension, the autoregressive structure, the inverse, and
/// a model that trains with it.
@Suite struct FlowPosteriorTests {
    init() { StandardModelKinds.register() }

    static func flow(dimension: Int, steps: Int = 2, seed: UInt64 = 3) -> InverseAutoregressiveFlow {
        var generator = RandomGenerator(seed: seed)
        return InverseAutoregressiveFlow(steps: steps, dimension: dimension, hiddenSize: 4, contextSize: 2, using: &generator)
    }

    /// [z_T, Σ log σ] per row, and the gradient in z₀ and the context, against the steps written
    /// in Double (masks included).
    @Test func theFlowAndItsLogDeterminantMatchADoubleReference() {
        let flow = Self.flow(dimension: 3)
        func values(_ t: Tensor) -> [Double] { t.scalars.map(Double.init) }
        let report = GradientCheck.run(inputs: [([2, 3], -1...1), ([2, 2], -1...1)], engine: { t in
            let (z, logDeterminant) = flow(t[0], context: t[1])
            return Tensor.concatenated([z, logDeterminant.reshaped(to: [2, 1])])
        }) { v in
            (0..<2).flatMap { row -> [Double] in
                var z = Array(v[0][(row * 3)..<(row * 3 + 3)])
                let h = Array(v[1][(row * 2)..<(row * 2 + 2)])
                var total = 0.0
                for step in flow.steps {
                    func masked(_ layer: MaskedLinear, _ x: [Double]) -> [Double] {
                        let (w, m, b) = (values(layer.weight), values(layer.mask.tensor), values(layer.bias))
                        return (0..<b.count).map { o -> Double in
                            var sum = b[o]
                            for i in 0..<x.count { sum += w[o * x.count + i] * m[o * x.count + i] * x[i] }
                            return sum
                        }
                    }
                    let (cw, cb) = (values(step.context.weight), values(step.context.bias!))
                    let contextTerm = (0..<cb.count).map { o -> Double in cb[o] + cw[o * 2] * h[0] + cw[o * 2 + 1] * h[1] }
                    let inputs = masked(step.input, z)
                    let hidden = (0..<inputs.count).map { k -> Double in
                        let a = inputs[k] + contextTerm[k]
                        return a > 0 ? a : Foundation.exp(a) - 1
                    }
                    let m = masked(step.shift, hidden), s = masked(step.gate, hidden)
                    let sigma = s.map { 1 / (1 + Foundation.exp(-$0)) }
                    z = (0..<3).map { sigma[$0] * z[$0] + (1 - sigma[$0]) * m[$0] }
                    total += sigma.reduce(0) { $0 + Foundation.log($1) }
                }
                return z + [total]
            }
        }
        #expect(report.forwardError < 1e-5, "\(report)")
        #expect(report.gradientError < 2e-3, "\(report)")
    }

    /// In one dimension every step is affine in z (its m and σ see only the context), so
    /// q(z) is the Gaussian N(a μ₀ + b, a² σ₀²) with z_T = a z₀ + b: both log-densities (from ε,
    /// and by inverting the flow) equal it.
    @Test func oneDimensionIsTheClosedFormGaussian() {
        let flow = Self.flow(dimension: 1, steps: 3)
        let context = Tensor(shape: [4, 2], scalars: [0.3, -0.2, 1, 0.5, -1, 0, 0.2, 0.2])
        let base = DiagonalGaussian(mean: Tensor(shape: [4, 1], scalars: [0.5, -1, 2, 0]), logVariance: Tensor(shape: [4, 1], scalars: [0, -1, 0.5, 1]))
        let posterior = FlowPosterior(base: base, context: context, flow: flow)
        let noise = Tensor(shape: [4, 1], scalars: [0.7, -1.3, 0.1, 2])
        withoutGradients {
            // a and b from the steps' own m and σ, which depend on the context only.
            var a = [Double](repeating: 1, count: 4), b = [Double](repeating: 0, count: 4)
            for step in flow.steps {
                let (m, s) = step.parameters(Tensor(shape: [4, 1], repeating: 123), context: context)
                for row in 0..<4 {
                    let sigma = 1 / (1 + Foundation.exp(-Double(s.scalars[row])))
                    (a[row], b[row]) = (sigma * a[row], sigma * b[row] + (1 - sigma) * Double(m.scalars[row]))
                }
            }
            let z = posterior.sample(noise: noise).scalars
            let fromNoise = posterior.logProbability(ofSampleFrom: noise).scalars, inverted = posterior.logProbability(Tensor(shape: [4, 1], scalars: z)).scalars
            for row in 0..<4 {
                let mean = a[row] * Double(base.mean.scalars[row]) + b[row]
                let variance = a[row] * a[row] * Foundation.exp(Double(base.logVariance.scalars[row]))
                let exact = -0.5 * (Foundation.log(2 * Double.pi * variance) + pow(Double(z[row]) - mean, 2) / variance)
                #expect(abs(Double(fromNoise[row]) - exact) < 1e-4 && abs(Double(inverted[row]) - exact) < 1e-3, "\(fromNoise[row]), \(inverted[row]) against \(exact)")
            }
        }
    }

    /// Each step's output i moves only with the inputs before i in the step's order, and the
    /// inverse recovers z₀.
    @Test func eachStepIsAutoregressiveAndInvertible() {
        let flow = Self.flow(dimension: 4, steps: 2)
        let context = Tensor(shape: [1, 2], scalars: [0.4, -0.6])
        withoutGradients {
            for step in flow.steps {
                let z: [Float] = [0.1, -0.5, 0.9, 0.3]
                let before = step(Tensor(shape: [1, 4], scalars: z), context: context).z.scalars
                for j in 0..<4 {
                    var moved = z
                    moved[j] += 0.7
                    let after = step(Tensor(shape: [1, 4], scalars: moved), context: context).z.scalars
                    for i in 0..<4 where step.order[i] < step.order[j] { #expect(after[i] == before[i], "output \(i) moved with input \(j)") }
                    #expect(after[j] != before[j])
                }
                let recovered = step.inverse(before, rows: 1, context: context)
                #expect(zip(recovered, z).allSatisfy { abs($0 - $1) < 1e-5 }, "\(recovered) against \(z)")
            }
            #expect(flow.steps[0].order == [1, 2, 3, 4] && flow.steps[1].order == [4, 3, 2, 1])
        }
    }

    @Test func anIAFModelTrainsAndItsFileRebuildsIt() throws {
        var configuration = TrainerTests.configuration(epochs: 3)
        var architecture = try #require(configuration.model.architecture(as: MLPConfiguration.self))
        architecture.posterior = .iaf(steps: 2, hiddenSize: 16)
        configuration.model = .mlp(architecture)
        let trainer = try Trainer(configuration: configuration, train: TrainerTests.train, test: TrainerTests.test)
        let first = try #require(try trainer.trainEpoch()).loss
        while !trainer.isFinished { _ = try trainer.trainEpoch() }
        #expect(trainer.evaluateTest(epoch: 3).loss < first)
        #expect(trainer.model.klEstimators(on: TrainerTests.test).map(\.estimator) == [.monteCarlo])
        let file = try SafeTensorsFile.decode(TrainingCheckpoint.modelFile(trainer.model).encoded(), file: "f.safetensors")
        let specification = try #require(try TrainingCheckpoint.modelSpecification(in: file, fileName: "f.safetensors"))
        var generator = RandomGenerator(seed: 4)
        let rebuilt = try specification.makeModel(using: &generator)
        try rebuilt.load(file, fileName: "f.safetensors")
        let x = Tensor(shape: [3, 64], scalars: Array(TrainerTests.test.pixels[0..<192]))
        #expect(withoutGradients { rebuilt.encode(x, condition: nil).mean.scalars == trainer.model.encode(x, condition: nil).mean.scalars })
        var bad = architecture
        bad.posterior = .iaf(steps: 0, hiddenSize: 16)
        #expect(bad.problems.contains { $0.setting == .posterior })
    }
}
