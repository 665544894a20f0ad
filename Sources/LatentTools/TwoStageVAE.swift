import Foundation
import NN
import Optimizers
import SafeTensors
import TensorCore
import VAE
import VAEModels

/// The second stage of Dai & Wipf's two-stage VAE ("Diagnosing and Enhancing VAE Models", ICLR
/// 2019): a VAE trained on the first model's latent codes u, whose own prior N(0, I) is matched
/// far better than the first model's. To sample: v ~ N(0, T² I), u = μ_θ(v), then the first
/// decoder turns u into an image.
///
/// Architecture: encoder d → hidden → hidden (ReLU) → μ, log σ² of d dimensions; decoder
/// d → hidden → hidden (ReLU) → d. The likelihood is N(u | μ_θ(v), γ I) with one variance γ, as in
/// the paper; γ takes its optimal value for each batch, the mean squared error (Rybkin et al.
/// 2021, "σ-VAE"), rather than following it by gradient steps, which Adam makes too slowly for
/// γ to fall the orders of magnitude the method needs. With γ = MSE the loss per code is
///
///     (d/2) log(2π e · MSE) + KL(q(v | u) ‖ N(0, I))
///
/// The last γ of training is kept as a buffer (`gamma`), for the record.
public final class TwoStageVAE: Module, LatentSampler {
    /// q(v | u).
    public let encoder: GaussianEncoder
    /// μ_θ(v).
    public let decoder: Decoder
    /// γ at the end of training: the likelihood's variance, the codes' mean squared error.
    public private(set) var gamma: Double = 1
    /// The width of the hidden layers.
    public let hiddenSize: Int

    /// The dimension d of the codes (and of v).
    public var latentSize: Int { decoder.output.outputSize }

    /// An untrained second stage for `dimension`-dimensional codes.
    public init(dimension: Int, hiddenSize: Int = 512, using generator: inout RandomGenerator) {
        precondition(dimension > 0 && hiddenSize > 0, "a second stage needs a dimension and hidden units")
        encoder = GaussianEncoder(inputSize: dimension, hiddenSizes: [hiddenSize, hiddenSize], latentSize: dimension, activation: .relu,
                                  varianceHead: .logVariance, initializer: .pytorchDefault, using: &generator)
        decoder = Decoder(latentSize: dimension, hiddenSizes: [hiddenSize, hiddenSize], outputSize: dimension, activation: .relu,
                          initializer: .pytorchDefault, using: &generator)
        self.hiddenSize = hiddenSize
    }

    /// The loss above, averaged over the batch `codes` [B, d], with reparameterisation noise
    /// `noise` [B, d]; and γ, the batch's mean squared error.
    public func loss(codes: Tensor, noise: Tensor) -> (loss: Tensor, gamma: Double) {
        let rows = Float(codes.shape[0]), d = Float(latentSize)
        let posterior = encoder(codes)
        let reconstruction = decoder.logits(posterior.sample(noise: noise))
        let meanSquaredError = (codes - reconstruction).squared().sum() / (rows * d) + Float(1e-12)
        let gaussian = 0.5 * d * (meanSquaredError.log() + Float(1 + Foundation.log(2 * Double.pi)))
        return (gaussian + posterior.klDivergence(reduction: .sum) / rows, Double(meanSquaredError.item))
    }

    /// Trains a second stage on `codes` [count · dimension] for `epochs` epochs (batch 128, Adam
    /// 1e-3 halved over the last half, weights, order and noise from `seed`); `onEpoch(epoch,
    /// meanLoss, γ)` after each.
    public static func train(codes: [Float], dimension d: Int, epochs: Int, seed: UInt64, hiddenSize: Int = 512, batchSize: Int = 128,
                             learningRate: Float = 1e-3, onEpoch: (_ epoch: Int, _ loss: Double, _ gamma: Double) -> Void = { _, _, _ in }) -> TwoStageVAE {
        precondition(d > 0 && codes.count % d == 0 && codes.count / d >= 2, "a second stage needs at least two codes of \(d) values")
        precondition(epochs >= 1 && batchSize >= 1, "need at least one epoch and one code per batch")
        var generator = RandomGenerator(seed: seed)
        let model = TwoStageVAE(dimension: d, hiddenSize: hiddenSize, using: &generator)
        let optimizer = Adam(parameters: model.parameters, learningRate: learningRate)
        let count = codes.count / d
        SubnormalFlushing.withSubnormalsFlushedToZero {
            for epoch in 1...epochs {
                optimizer.learningRate = learningRate * LearningRateSchedule.halvingFactor(epoch: epoch, of: epochs)
                let order = generator.permutation(count)
                var total = 0.0, squaredErrors = 0.0
                for start in stride(from: 0, to: count, by: batchSize) {
                    let rows = min(batchSize, count - start)
                    var batch = [Float](repeating: 0, count: rows * d)
                    for r in 0..<rows { batch.replaceSubrange((r * d)..<((r + 1) * d), with: codes[(order[start + r] * d)..<((order[start + r] + 1) * d)]) }
                    var noise = [Float](repeating: 0, count: rows * d)
                    noise.withUnsafeMutableBufferPointer { generator.fillNormal($0) }
                    optimizer.zeroGradients()
                    let (loss, gamma) = model.loss(codes: Tensor(shape: [rows, d], scalars: batch), noise: Tensor(shape: [rows, d], scalars: noise))
                    loss.backward()
                    optimizer.step()
                    total += Double(loss.item) * Double(rows)
                    squaredErrors += gamma * Double(rows)
                }
                model.gamma = Double(Float(squaredErrors / Double(count)))  // as the file stores it
                onEpoch(epoch, total / Double(count), model.gamma)
            }
        }
        return model
    }

    /// Draws from the second stage's density p(u) = ∫ N(u | μ_θ(v), γ I) N(v | 0, I) dv:
    /// u = μ_θ(v) + T √γ ε with v ~ N(0, T² I) and ε ~ N(0, I). The likelihood's noise matters
    /// when γ stays well above zero, as it does for codes that fill their space: there the
    /// objective does not drive γ to zero, and μ_θ(v) alone is narrower than the codes.
    public func latents(count: Int, temperature: Float, using generator: inout RandomGenerator) -> [Float] {
        precondition(count > 0 && temperature >= 0, "need count > 0 and temperature >= 0")
        var v = [Float](repeating: 0, count: count * latentSize), noise = v
        v.withUnsafeMutableBufferPointer { generator.fillNormal($0, mean: 0, standardDeviation: temperature) }
        noise.withUnsafeMutableBufferPointer { generator.fillNormal($0, mean: 0, standardDeviation: temperature * Float(gamma.squareRoot())) }
        var result: [Float] = []
        withoutGradients { result = decoder.logits(Tensor(shape: [count, latentSize], scalars: v)).scalars }
        for index in result.indices { result[index] += noise[index] }
        return result
    }

    /// The second stage as safetensors: its parameters, with the kind, the dimension, the hidden
    /// width and `metadata` in the header.
    public func file(metadata: [String: String]) -> SafeTensorsFile {
        var header = metadata
        header["kind"] = "two-stage-sampler"
        header["dimension"] = "\(latentSize)"
        header["hidden_size"] = "\(hiddenSize)"
        header["gamma"] = "\(Float(gamma))"  // the shortest text that reads back as the same Float
        return stateDictionary(metadata: header)
    }

    /// Reads a second stage written by `file(metadata:)`, checked against its recorded sizes.
    public static func read(_ file: SafeTensorsFile, path: String) throws(SamplerFileError) -> TwoStageVAE {
        guard file.metadata["kind"] == "two-stage-sampler" else {
            throw SamplerFileError(path: path, reason: "it is not a two-stage sampler (metadata kind: \(file.metadata["kind"] ?? "none"))")
        }
        guard let dimension = file.metadata["dimension"].flatMap(Int.init), (1...4096).contains(dimension),
              let hidden = file.metadata["hidden_size"].flatMap(Int.init), (1...16384).contains(hidden) else {
            throw SamplerFileError(path: path, reason: "metadata dimension and hidden_size: expected integers in 1...4096 and 1...16384, got \(file.metadata["dimension"] ?? "nothing") and \(file.metadata["hidden_size"] ?? "nothing")")
        }
        var generator = RandomGenerator(seed: 0)
        let model = TwoStageVAE(dimension: dimension, hiddenSize: hidden, using: &generator)
        do { try model.load(file, fileName: path) } catch { throw SamplerFileError(path: path, reason: error.localizedDescription) }
        guard let gamma = file.metadata["gamma"].flatMap(Double.init), gamma >= 0, gamma.isFinite else {
            throw SamplerFileError(path: path, reason: "metadata gamma: expected a number >= 0, got \(file.metadata["gamma"] ?? "nothing")")
        }
        model.gamma = gamma
        return model
    }
}
