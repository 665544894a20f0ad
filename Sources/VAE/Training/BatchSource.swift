import Datasets
import TensorCore

/// One training batch as this process sees it: its shard of the images of a global batch, their
/// labels (and a conditional model's one-hot condition), and the noise source the model draws
/// its ε from.
public struct Batch {
    /// This process's images, [rows, C · H · W].
    public let images: Tensor
    /// Their labels (empty when the model does not use labels).
    public let labels: [Int]
    /// The one-hot condition [rows, K] of a conditional model, nil otherwise.
    public let condition: Tensor?
    /// The images of the whole batch, over every process.
    public let batchRows: Int
    /// Where the batch's reparameterisation noise comes from (drawn for the whole batch).
    public let noise: NoiseSource
    /// The processes whose shards make up the batch (nil: this process alone). An objective
    /// whose loss needs a statistic of the whole batch (free bits' per-dimension KL) sums it
    /// over them with `sumOverShards`.
    public let processGroup: (any ProcessGroup)?

    /// A batch of `images` (with `labels` and `condition`) out of `batchRows`, drawing from `noise`,
    /// the shard of this process in `processGroup`.
    public init(images: Tensor, labels: [Int] = [], condition: Tensor? = nil, batchRows: Int? = nil, noise: NoiseSource,
                processGroup: (any ProcessGroup)? = nil) {
        (self.images, self.labels, self.condition, self.noise) = (images, labels, condition, noise)
        self.batchRows = batchRows ?? images.shape[0]
        self.processGroup = processGroup
    }

    /// `values` summed over the processes sharing the batch (unchanged alone). A collective call
    /// when the batch is shared: every process makes it, in the same order.
    public func sumOverShards(_ values: [Double]) -> [Double] {
        guard let processGroup, processGroup.size > 1 else { return values }
        var sums = values
        processGroup.sum(&sums)
        return sums
    }

    /// This process's share of the batch, rows / batchRows (1 alone).
    public var share: Float { Float(images.shape[0]) / Float(batchRows) }
}

/// The batches of one epoch, in order: the seeded shuffle of the training images, from the
/// batch a resumed run stopped at, each binarised afresh when binarisation is dynamic (the whole
/// batch's draws, so the generator moves as one process's would), and cut to this process's
/// shard. The last batch is partial when the images do not divide evenly (as PyTorch's
/// DataLoader keeps it).
struct BatchSource: Sequence, IteratorProtocol {
    let images: ImageDataset
    let order: [Int]
    let batchSize: Int
    let dynamicBinarization: Bool
    let model: any VariationalModel
    let usesLabels: Bool
    let processGroup: (any ProcessGroup)?
    let noise: NoiseSource
    /// The next batch's index in the epoch.
    private(set) var index: Int

    init(images: ImageDataset, order: [Int], batchSize: Int, from index: Int, dynamicBinarization: Bool, model: any VariationalModel,
         processGroup: (any ProcessGroup)?, noise: NoiseSource) {
        (self.images, self.order, self.batchSize, self.index) = (images, order, batchSize, index)
        (self.dynamicBinarization, self.model, self.processGroup, self.noise) = (dynamicBinarization, model, processGroup, noise)
        usesLabels = images.isLabelled && model.usesLabels
    }

    /// Batches in an epoch.
    var count: Int { (images.count + batchSize - 1) / batchSize }
    /// Whether a batch is left.
    var hasNext: Bool { index < count }

    mutating func next() -> Batch? {
        guard index < count else { return nil }
        let first = index * batchSize, rows = Swift.min(batchSize, images.count - first), width = images.shape.count
        index += 1
        // This process's rows of the global batch (all of them alone).
        let shard = processGroup?.shard(of: rows) ?? 0..<rows
        noise.shard = (rows, shard)
        let x = Tensor(shape: [shard.count, width], storage: TensorStorage(uninitializedCount: shard.count * width))
        for (r, row) in shard.enumerated() { images.copyImage(order[first + row], into: x.pointer + r &* width) }
        if dynamicBinarization {
            let uniforms = TensorStorage(uninitializedCount: rows * width)
            noise.generator.fillUniform(uniforms.buffer)
            Binarization.sample(x.pointer, uniforms: uniforms.pointer + shard.lowerBound * width, count: shard.count * width)
        }
        let labels = usesLabels ? shard.map { images.labels[order[first + $0]] } : []
        return Batch(images: x, labels: labels, condition: model.conditionTensor(labels: labels), batchRows: rows, noise: noise, processGroup: processGroup)
    }
}
