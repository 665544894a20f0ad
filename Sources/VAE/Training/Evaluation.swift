import Datasets
import NN
import TensorCore

/// The negative ELBO on a set of images, per image, in nats:
/// loss = −log p(x | z) + Σ_i KL(q(z_i | ·) || p(z_i | ·)), with z drawn from q (one draw per
/// image) or every z at its posterior mean. The reconstruction term is the likelihood's
/// (`ImageDistribution.negativeLogLikelihood`: for the fixed-variance Gaussian, the squared error
/// without its constant, which `omittedConstant` holds).
public struct EvaluationResult: Codable, Equatable, Sendable {
    /// The images evaluated.
    public var images: Int
    /// Mean loss with one sampled z per image.
    public var loss: Double
    /// Mean loss with z at the posterior means.
    public var lossMean: Double
    /// Mean reconstruction term with a sampled z.
    public var reconstruction: Double
    /// Mean reconstruction term with z at the means.
    public var reconstructionMean: Double
    /// Mean KL term, every group (from the sampled pass).
    public var kl: Double
    /// Each latent group's mean KL, top first (one value for a one-group model).
    public var groupKL: [Double]?
    /// The constant per image the reconstruction term leaves out: log p(x | z) = −term + constant.
    public var omittedConstant: Double?
    /// Whether the likelihood is over discrete values (then −log₂ p is a code length).
    public var isDiscrete: Bool?

    /// The result of several processes' shares combined, weighted by their image counts (every
    /// process gets the same figures); unchanged without a group.
    public func combined(over group: (any ProcessGroup)?) -> EvaluationResult {
        guard let group else { return self }
        let n = Double(images), groups = groupKL ?? []
        var sums = [n, loss * n, lossMean * n, reconstruction * n, reconstructionMean * n, kl * n] + groups.map { $0 * n }
        group.sum(&sums)
        let total = max(sums[0], 1)
        var result = self
        result.images = Int(sums[0])
        (result.loss, result.lossMean, result.reconstruction) = (sums[1] / total, sums[2] / total, sums[3] / total)
        (result.reconstructionMean, result.kl) = (sums[4] / total, sums[5] / total)
        if groupKL != nil { result.groupKL = (0..<groups.count).map { sums[6 + $0] / total } }
        return result
    }
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
        var groupKL = [Double](repeating: 0, count: latentGroups.count)
        var evaluated = 0
        var constant = 0.0, isDiscrete = false
        let noise = NoiseSource(generator: generator)
        withoutGradients {
            for (batch, start) in stride(from: 0, to: count, by: batchSize).enumerated() {
                let rows = min(batchSize, count - start)
                guard batch % shard.count == shard.index else {
                    for group in latentGroups { _ = noise.normal(rows: rows, columns: group.size) }  // another process's batch: its draws
                    continue
                }
                evaluated += rows
                let x = Tensor(shape: [rows, width], storage: TensorStorage(uninitializedCount: rows * width))
                let t = Tensor(shape: [rows, width], storage: TensorStorage(uninitializedCount: rows * width))
                images.withUnsafeBufferPointer { x.pointer.update(from: $0.baseAddress! + start * width, count: rows * width) }
                targets.withUnsafeBufferPointer { t.pointer.update(from: $0.baseAddress! + start * width, count: rows * width) }
                let condition = condition(labels: labels, range: start..<(start + rows))
                let sampled = forward(x, condition: condition, sampling: .noise(noise), samples: 1)
                for (index, group) in sampled.groups.enumerated() {
                    let value = Double(EvidenceLowerBound.klSum(group).0.item)
                    groupKL[index] += value
                    kl += value
                }
                reconstruction += Double(sampled.likelihood.negativeLogLikelihood(t).item)
                (constant, isDiscrete) = (sampled.likelihood.omittedConstant, sampled.likelihood.isDiscrete)
                let central = forward(x, condition: condition, sampling: .mean, samples: 1)
                reconstructionMean += Double(central.likelihood.negativeLogLikelihood(t).item)
            }
        }
        generator = noise.generator
        let n = Double(max(evaluated, 1))
        return EvaluationResult(images: evaluated, loss: (reconstruction + kl) / n, lossMean: (reconstructionMean + kl) / n,
                                reconstruction: reconstruction / n, reconstructionMean: reconstructionMean / n, kl: kl / n,
                                groupKL: groupKL.map { $0 / n }, omittedConstant: constant, isDiscrete: isDiscrete)
    }

    /// The mean images E[x | z] for z = μ(x) (or a sampled z when `generator` is given). A
    /// one-group model goes through `encode` and `decode`; a conditional one encodes with
    /// `labels` and decodes with `decodeLabels` (the same labels when empty): another label
    /// writes each image's style as another class. A model of several groups reconstructs
    /// through all of them (`forward`: each group at its posterior's mean given the groups
    /// above, or drawn from it), as its loss does. Shapes: images [count * inputSize] ->
    /// [count * inputSize].
    public func reconstruct(images: [Float], labels: [Int] = [], decodeLabels: [Int] = [], using generator: inout RandomGenerator?) -> [Float] {
        let width = inputSize
        let count = images.count / width
        return withoutGradients {
            let x = Tensor(shape: [count, width], scalars: images)
            let condition = condition(labels: labels, range: 0..<count)
            if latentGroups.count > 1 && decodeLabels.isEmpty {
                let source = generator.map { NoiseSource(generator: $0) }
                let output = forward(x, condition: condition, sampling: source.map { .noise($0) } ?? .mean, samples: 1)
                if let source { generator = source.generator }
                return output.likelihood.mean.scalars
            }
            let posterior = encode(x, condition: condition)
            var noise: Tensor? = nil
            if generator != nil { noise = Tensor.randomNormal(posterior.mean.shape, using: &generator!) }
            let decodeCondition = decodeLabels.isEmpty ? condition : self.condition(labels: decodeLabels, range: 0..<count)
            return decode(posterior.sample(noise: noise), condition: decodeCondition).mean.scalars
        }
    }
}
