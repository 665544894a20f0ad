import Datasets
import NN
import TensorCore

/// The negative ELBO on a set of images, per image, in nats:
/// loss = -log p(x | z) + KL(q(z | x) || N(0, I)), with z sampled from q (one draw per image) or
/// z = μ. The reconstruction term is the model's likelihood summed over pixels (Bernoulli: BCE;
/// Gaussian: squared error).
public struct EvaluationResult: Codable, Equatable, Sendable {
    /// The images evaluated.
    public var images: Int
    /// Mean loss with one sampled z per image.
    public var loss: Double
    /// Mean loss with z = μ.
    public var lossMean: Double
    /// Mean reconstruction term with a sampled z.
    public var reconstruction: Double
    /// Mean reconstruction term with z = μ.
    public var reconstructionMean: Double
    /// Mean KL term (the same for both).
    public var kl: Double
}

extension VariationalModel {
    /// The condition for images `range` of a set with `labels` (nil for an unconditional model).
    func condition(labels: [Int], range: Range<Int>) -> Tensor? {
        guard case .classes = condition else { return nil }
        precondition(labels.count >= range.upperBound, "a conditional model needs a label for every image")
        return conditionTensor(labels: Array(labels[range]))
    }

    /// Evaluates the negative ELBO on `images` ([count, inputSize] values) against `targets` (the
    /// same shape; usually the same array), `batchSize` images at a time; the noise for the
    /// sampled z comes from `generator`. `labels` condition a conditional model.
    ///
    /// With a `shard` (index i of n processes), only batches b with b % n == i are evaluated, and
    /// the result covers those images; the noise of the other batches is drawn and discarded,
    /// so each image gets the z it would get in one process, and the n results combine, weighted
    /// by their image counts, into the one-process result (up to the order of the sums).
    public func evaluate(images: [Float], targets: [Float], labels: [Int] = [], batchSize: Int, shard: (index: Int, count: Int) = (0, 1),
                         using generator: inout RandomGenerator) -> EvaluationResult {
        let width = inputSize
        precondition(images.count % width == 0 && images.count == targets.count, "evaluate needs images and targets of [count, \(width)]")
        precondition(batchSize > 0, "batch size must be positive")
        let count = images.count / width
        precondition(shard.count >= 1 && (0..<shard.count).contains(shard.index), "shard \(shard.index) of \(shard.count)")
        var (reconstruction, reconstructionMean, kl) = (0.0, 0.0, 0.0)
        var evaluated = 0
        withoutGradients {
            for (batch, start) in stride(from: 0, to: count, by: batchSize).enumerated() {
                let rows = min(batchSize, count - start)
                guard batch % shard.count == shard.index else {
                    _ = Tensor.randomNormal([rows, latentSize], using: &generator)  // another process's batch: its draws
                    continue
                }
                evaluated += rows
                let x = Tensor(shape: [rows, width], storage: TensorStorage(uninitializedCount: rows * width))
                let t = Tensor(shape: [rows, width], storage: TensorStorage(uninitializedCount: rows * width))
                images.withUnsafeBufferPointer { x.pointer.update(from: $0.baseAddress! + start * width, count: rows * width) }
                targets.withUnsafeBufferPointer { t.pointer.update(from: $0.baseAddress! + start * width, count: rows * width) }
                let condition = condition(labels: labels, range: start..<(start + rows))
                let posterior = encode(x, condition: condition)
                kl += Double(posterior.klDivergence(reduction: .sum).item)
                let noise = Tensor.randomNormal(posterior.mean.shape, using: &generator)
                let sampled = decode(posterior.sample(noise: noise), condition: condition)
                reconstruction += Double(sampled.negativeLogLikelihood(t, reduction: .sum).item)
                let central = decode(posterior.mean, condition: condition)
                reconstructionMean += Double(central.negativeLogLikelihood(t, reduction: .sum).item)
            }
        }
        let n = Double(max(evaluated, 1))
        return EvaluationResult(images: evaluated, loss: (reconstruction + kl) / n, lossMean: (reconstructionMean + kl) / n,
                                reconstruction: reconstruction / n, reconstructionMean: reconstructionMean / n, kl: kl / n)
    }

    /// The mean images E[x | z] for z = μ(x) (or a sampled z when `generator` is given). A
    /// conditional model encodes with `labels` and decodes with `decodeLabels` (the same labels
    /// when empty): another label writes each image's style as another class.
    /// Shapes: images [count * inputSize] -> [count * inputSize].
    public func reconstruct(images: [Float], labels: [Int] = [], decodeLabels: [Int] = [], using generator: inout RandomGenerator?) -> [Float] {
        let width = inputSize
        let count = images.count / width
        return withoutGradients {
            let x = Tensor(shape: [count, width], scalars: images)
            let condition = condition(labels: labels, range: 0..<count)
            let posterior = encode(x, condition: condition)
            var noise: Tensor? = nil
            if generator != nil { noise = Tensor.randomNormal(posterior.mean.shape, using: &generator!) }
            let decodeCondition = decodeLabels.isEmpty ? condition : self.condition(labels: decodeLabels, range: 0..<count)
            return decode(posterior.sample(noise: noise), condition: decodeCondition).mean.scalars
        }
    }
}
