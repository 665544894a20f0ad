import Datasets
import Foundation
import NN
import Optimizers
import TensorCore

/// The figures of design B on a set of images, with z = μ: reconstruction MSE with the learned
/// transform (per pixel), the classifier head's accuracy, and the KL per latent dimension.
public struct AffineEvaluation: Codable, Equatable, Sendable {
    public var images: Int
    public var reconstructionMSE: Double
    public var accuracy: Double
    public var klPerDimension: [Double]

    /// True when every dimension's KL is near 0: the latents carry nothing (a collapsed model).
    public var isCollapsed: Bool { klPerDimension.allSatisfy { $0 < 0.01 } }
}

/// One finished epoch of design-B training.
public struct AffineEpochSummary: Sendable {
    public let epoch: Int
    /// Mean per batch of the weighted loss, and of its three parts (unweighted).
    public let loss: Double
    public let reconstructionMSE: Double
    public let crossEntropy: Double
    public let kl: Double
    public let seconds: Double
    public let imagesPerSecond: Double
}

/// Trains an `AffineVAE` with Adam: per batch, loss = a · CE(classifier(content of z), labels)
/// + MSE(render(z), x) + w · mean_{b,d} KL_bd, z = μ + σ ε (see `AffineTrainingConfiguration`).
/// The validation images are the last share of one seeded permutation of the training split.
public final class AffineTrainer {
    public let configuration: AffineTrainingConfiguration
    public let model: AffineVAE
    public let optimizer: Adam
    public let train: ImageDataset
    public let validation: ImageDataset
    public private(set) var completedEpochs = 0
    private var generator: RandomGenerator

    public init(configuration: AffineTrainingConfiguration, train full: ImageDataset) {
        precondition(configuration.problems.isEmpty, configuration.problems.joined(separator: "; "))
        precondition(full.pixelsPerImage == configuration.model.inputSize, "the images have \(full.pixelsPerImage) pixels, the model expects \(configuration.model.inputSize)")
        self.configuration = configuration
        var generator = RandomGenerator(seed: configuration.seed)
        model = AffineVAE(configuration.model, using: &generator)
        optimizer = Adam(parameters: model.parameters, learningRate: configuration.learningRate)
        var split = RandomGenerator(seed: configuration.seed ^ 0x5B11_7000)
        let order = split.permutation(full.count)
        let held = Int((Double(full.count) * configuration.validationFraction).rounded())
        func subset(_ indices: ArraySlice<Int>) -> ImageDataset {
            let size = full.pixelsPerImage
            var pixels = [Float](), labels = [Int]()
            pixels.reserveCapacity(indices.count * size)
            for index in indices {
                pixels += full.pixels[(index * size)..<((index + 1) * size)]
                labels.append(full.labels[index])
            }
            return ImageDataset(pixels: pixels, labels: labels, rows: full.rows, columns: full.columns)
        }
        train = subset(order[..<(full.count - held)])
        validation = subset(order[(full.count - held)...])
        self.generator = generator
    }

    public var isFinished: Bool { completedEpochs >= configuration.epochs }
    public var batchesPerEpoch: Int { (train.count + configuration.batchSize - 1) / configuration.batchSize }

    /// Puts back a model and optimizer state saved after `epochs` epochs, with the generator
    /// state saved then.
    public func restore(epochs: Int, generatorState: [UInt64], optimizerState: OptimizerState) throws(OptimizerStateError) {
        try optimizer.restore(optimizerState)
        completedEpochs = epochs
        generator = RandomGenerator(state: generatorState)
    }

    public var generatorState: [UInt64] { generator.stateWords }

    /// Trains one epoch; `shouldStop` is asked between batches (nil when it stopped the epoch,
    /// which is then not counted). `onBatch(done, total, loss)` follows every batch.
    public func trainEpoch(shouldStop: () -> Bool = { false },
                           onBatch: (_ done: Int, _ total: Int, _ loss: Double) -> Void = { _, _, _ in }) throws(NonFiniteLossError) -> AffineEpochSummary? {
        try SubnormalFlushing.withSubnormalsFlushedToZero { () throws(NonFiniteLossError) -> AffineEpochSummary? in
            try trainBatches(shouldStop: shouldStop, onBatch: onBatch)
        }
    }

    private func trainBatches(shouldStop: () -> Bool, onBatch: (Int, Int, Double) -> Void) throws(NonFiniteLossError) -> AffineEpochSummary? {
        precondition(!isFinished, "training already ran its \(configuration.epochs) epochs")
        let width = configuration.model.inputSize, latent = configuration.model.latentSize
        let batchSize = configuration.batchSize, batches = batchesPerEpoch
        let klWeight = configuration.effectiveKLWeight, classifierWeight = configuration.classifierWeight
        let saved = generator
        let permutation = generator.permutation(train.count)
        var sums = (loss: 0.0, mse: 0.0, ce: 0.0, kl: 0.0)
        let started = Date()
        for batch in 0..<batches {
            if shouldStop() { generator = saved; return nil }
            let first = batch * batchSize, rows = min(batchSize, train.count - first)
            var pixels = [Float](repeating: 0, count: rows * width)
            var labels = [Int](repeating: 0, count: rows)
            train.pixels.withUnsafeBufferPointer { source in
                for r in 0..<rows {
                    let index = permutation[first + r]
                    for k in 0..<width { pixels[r * width + k] = source[index * width + k] }
                    labels[r] = train.labels[index]
                }
            }
            let x = Tensor(shape: [rows, width], scalars: pixels)
            optimizer.zeroGradients()
            let (mean, spread) = model.encoder(x)
            let noise = Tensor.randomNormal([rows, latent], using: &generator)
            let z = mean + model.encoder.standardDeviation(fromSpread: spread) * noise
            let images = model.render(z)
            let mse = meanSquaredError(predictions: images, targets: x, reduction: .mean)
            let ce = softmaxCrossEntropy(logits: model.classifier(model.content(z)), labels: labels, reduction: .mean)
            let kl = model.encoder.klDivergence(mean: mean, spread: spread, reduction: .sum) * (1 / Float(rows * latent))
            let loss = ce * classifierWeight + mse + kl * klWeight
            guard loss.item.isFinite else {
                throw NonFiniteLossError(epoch: completedEpochs + 1, batch: batch + 1, value: loss.item)
            }
            loss.backward()
            optimizer.step()
            sums.loss += Double(loss.item); sums.mse += Double(mse.item); sums.ce += Double(ce.item); sums.kl += Double(kl.item)
            onBatch(batch + 1, batches, sums.loss / Double(batch + 1))
        }
        completedEpochs += 1
        let seconds = Date().timeIntervalSince(started), n = Double(batches)
        return AffineEpochSummary(epoch: completedEpochs, loss: sums.loss / n, reconstructionMSE: sums.mse / n, crossEntropy: sums.ce / n,
                                  kl: sums.kl / n, seconds: seconds, imagesPerSecond: Double(train.count) / max(seconds, 1e-9))
    }
}

extension AffineVAE {
    /// Images decoded from latent vectors [count, C + 6] on `grid`, transform on or off, in batches.
    public func renderImages(_ latents: [Float], grid: PixelGrid? = nil, transformOn: Bool = true, batchSize: Int = 100) -> [Float] {
        let latent = configuration.latentSize, count = latents.count / latent
        var images = [Float]()
        withoutGradients {
            for start in stride(from: 0, to: count, by: batchSize) {
                let rows = min(batchSize, count - start)
                images += render(Tensor(shape: [rows, latent], scalars: Array(latents[(start * latent)..<((start + rows) * latent)])),
                                 grid: grid, transformOn: transformOn).scalars
            }
        }
        return images
    }

    /// Reconstruction MSE (transform on, z = μ), classifier accuracy (on μ's content) and KL per
    /// dimension over a labelled set.
    public func evaluate(_ dataset: ImageDataset) -> AffineEvaluation {
        let codes = encoder.encode(images: dataset.pixels, batchSize: 500)
        return AffineEvaluation(images: dataset.count, reconstructionMSE: meanSquaredError(renderImages(codes.means), dataset.pixels),
                                accuracy: accuracy(means: codes.means, labels: dataset.labels), klPerDimension: codes.klPerDimension)
    }

    /// The share of `labels` the classifier head gets right from the content of `means` [count, C + 6].
    func accuracy(means: [Float], labels: [Int]) -> Double {
        let classes = configuration.classes
        let logits = withoutGradients { classifier(content(Tensor(shape: [labels.count, configuration.latentSize], scalars: means))).scalars }
        var correct = 0
        for row in labels.indices {
            let scores = logits[(row * classes)..<((row + 1) * classes)]
            if scores.indices.max(by: { scores[$0] < scores[$1] })! - row * classes == labels[row] { correct += 1 }
        }
        return Double(correct) / Double(max(labels.count, 1))
    }
}

/// The mean of (a − b)² over all values.
func meanSquaredError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "MSE needs two arrays of one size")
    var total = 0.0
    for index in a.indices {
        let difference = Double(a[index]) - Double(b[index])
        total += difference * difference
    }
    return total / Double(max(a.count, 1))
}
