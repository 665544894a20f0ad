import Datasets
import Foundation
import NN
import Optimizers
import SafeTensors
import TensorCore

/// A small convolutional classifier that judges generated images: does a conditional model's
/// sample of class k look like class k to a network trained on the real images?
///
/// Architecture (images [N, C, H, W]): conv 32 (3x3, stride 2, pad 1), ReLU, conv 64 (3x3,
/// stride 2, pad 1), ReLU, flatten, dense 128, ReLU, dense K (logits). Trained with softmax
/// cross-entropy and Adam (1e-3, batch 128). Saved as safetensors with its image shape, classes
/// and test accuracy in the metadata.
public final class ImageClassifier: Module {
    /// The two convolutions.
    public let convolutions: [Conv2D]
    /// The hidden dense layer.
    public let hidden: Linear
    /// The layer to one logit per class.
    public let output: Linear
    let flatten = Flatten()
    /// The images' shape.
    public let imageShape: ImageShape
    /// The class names by label.
    public let classNames: [String]

    /// An untrained classifier for `imageShape` images and `classNames`, weights drawn from `generator`.
    public init(imageShape: ImageShape, classNames: [String], using generator: inout RandomGenerator) {
        precondition(classNames.count >= 2, "a classifier needs at least two classes")
        self.imageShape = imageShape
        self.classNames = classNames
        convolutions = [
            Conv2D(inputChannels: imageShape.channels, outputChannels: 32, kernel: SpatialPair(3), stride: SpatialPair(2), padding: SpatialPair(1),
                   using: &generator),
            Conv2D(inputChannels: 32, outputChannels: 64, kernel: SpatialPair(3), stride: SpatialPair(2), padding: SpatialPair(1), using: &generator),
        ]
        let (height, width) = Self.featureSize(imageShape)
        hidden = Linear(inputSize: 64 * height * width, outputSize: 128, using: &generator)
        output = Linear(inputSize: 128, outputSize: classNames.count, using: &generator)
    }

    /// The grid after the two stride-2 convolutions: ⌈H / 4⌉ x ⌈W / 4⌉ (for padding 1, kernel 3).
    static func featureSize(_ shape: ImageShape) -> (Int, Int) {
        func after(_ size: Int) -> Int { (size - 1) / 2 + 1 }
        return (after(after(shape.height)), after(after(shape.width)))
    }

    /// The number of classes.
    public var classCount: Int { classNames.count }

    /// Logits [N, K] of images [N, C · H · W] (planar).
    public func logits(_ images: Tensor) -> Tensor {
        var h = images.reshaped(to: [images.shape[0], imageShape.channels, imageShape.height, imageShape.width])
        for layer in convolutions { h = layer(h).relu() }
        return output(hidden(flatten(h), then: .relu))
    }

    /// The most likely class of each image ([count * C · H · W] values).
    public func predict(images: [Float], batchSize: Int = 500) -> [Int] {
        let width = imageShape.count
        precondition(images.count % width == 0, "\(images.count) values are not whole \(imageShape) images")
        let count = images.count / width
        var labels: [Int] = []
        labels.reserveCapacity(count)
        withoutGradients {
            for start in stride(from: 0, to: count, by: batchSize) {
                let rows = min(batchSize, count - start)
                let scores = logits(Tensor(shape: [rows, width], scalars: Array(images[(start * width)..<((start + rows) * width)]))).scalars
                for row in 0..<rows {
                    let slice = scores[(row * classCount)..<((row + 1) * classCount)]
                    labels.append(slice.indices.max { slice[$0] < slice[$1] }! - row * classCount)
                }
            }
        }
        return labels
    }

    /// The share of `dataset`'s images classified as their label.
    public func accuracy(on dataset: ImageDataset) -> Double {
        precondition(dataset.isLabelled, "accuracy needs labels")
        let predicted = predict(images: dataset.pixels)
        return Double(zip(predicted, dataset.labels).filter { $0 == $1 }.count) / Double(max(dataset.count, 1))
    }

    /// Trains a new classifier on `train` for `epochs` epochs (shuffled with `seed`);
    /// `onEpoch(epoch, meanLoss)` after each.
    public static func train(on train: ImageDataset, epochs: Int, seed: UInt64, batchSize: Int = 128, learningRate: Float = 1e-3,
                             onEpoch: (_ epoch: Int, _ loss: Double) -> Void = { _, _ in }) -> ImageClassifier {
        precondition(train.isLabelled && train.classCount >= 2, "the classifier trains on labelled images of at least two classes")
        precondition(epochs >= 1 && batchSize >= 1, "need at least one epoch and one image per batch")
        var generator = RandomGenerator(seed: seed)
        let classifier = ImageClassifier(imageShape: train.shape, classNames: train.classNames, using: &generator)
        let optimizer = Adam(parameters: classifier.parameters, learningRate: learningRate)
        let width = train.shape.count
        SubnormalFlushing.withSubnormalsFlushedToZero {
            for epoch in 1...epochs {
                let order = generator.permutation(train.count)
                var lossSum = 0.0
                for start in stride(from: 0, to: train.count, by: batchSize) {
                    let rows = min(batchSize, train.count - start)
                    var pixels = [Float](repeating: 0, count: rows * width)
                    for r in 0..<rows { pixels.replaceSubrange((r * width)..<((r + 1) * width), with: train.image(order[start + r])) }
                    let labels = (0..<rows).map { train.labels[order[start + $0]] }
                    optimizer.zeroGradients()
                    let loss = softmaxCrossEntropy(logits: classifier.logits(Tensor(shape: [rows, width], scalars: pixels)), labels: labels)
                    loss.backward()
                    optimizer.step()
                    lossSum += Double(loss.item) * Double(rows)
                }
                onEpoch(epoch, lossSum / Double(train.count))
            }
        }
        return classifier
    }

    /// Writes the weights with the image shape, class names and `accuracy` in the metadata.
    public func save(to url: URL, testAccuracy: Double) throws(SafeTensorsError) {
        let shape = imageShape
        let names = (try? JSONEncoder().encode(classNames)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        try save(to: url, metadata: ["kind": "image-classifier", "channels": "\(shape.channels)", "height": "\(shape.height)",
                                     "width": "\(shape.width)", "class_names": names, "test_accuracy": String(format: "%.6f", testAccuracy)])
    }

    /// Reads a classifier written by `save(to:testAccuracy:)`, with its recorded test accuracy.
    public static func load(from url: URL) throws(ClassifierFileError) -> (classifier: ImageClassifier, testAccuracy: Double?) {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile.read(from: url) } catch { throw ClassifierFileError(path: url.path, reason: error.localizedDescription) }
        let metadata = file.metadata
        guard metadata["kind"] == "image-classifier" else {
            throw ClassifierFileError(path: url.path, reason: "it is not an image classifier of this toolkit (metadata kind: \(metadata["kind"] ?? "none"))")
        }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws(ClassifierFileError) -> Int {
            guard let text = metadata[key], let value = Int(text), range.contains(value) else {
                throw ClassifierFileError(path: url.path, reason: "metadata \(key): expected an integer in \(range.lowerBound)...\(range.upperBound), got \(metadata[key] ?? "nothing")")
            }
            return value
        }
        let channels = try integer("channels", 1...3), height = try integer("height", 1...4096), width = try integer("width", 1...4096)
        guard channels == 1 || channels == 3 else { throw ClassifierFileError(path: url.path, reason: "metadata channels: expected 1 or 3, got \(channels)") }
        guard let namesText = metadata["class_names"], let names = try? JSONDecoder().decode([String].self, from: Data(namesText.utf8)),
              (2...1000).contains(names.count) else {
            throw ClassifierFileError(path: url.path, reason: "metadata class_names: expected a JSON list of 2...1000 names")
        }
        var generator = RandomGenerator(seed: 0)
        let shape = channels == 1 ? ImageShape.grey(height: height, width: width) : ImageShape(channels: 3, height: height, width: width)
        let classifier = ImageClassifier(imageShape: shape, classNames: names, using: &generator)
        do { try classifier.load(file, fileName: url.path) } catch { throw ClassifierFileError(path: url.path, reason: error.localizedDescription) }
        return (classifier, metadata["test_accuracy"].flatMap(Double.init))
    }
}

/// A classifier file that cannot be used, naming the file and what is wrong.
public struct ClassifierFileError: Error, LocalizedError, CustomStringConvertible {
    /// The file's path.
    public let path: String
    /// What is wrong.
    public let reason: String
    /// "PATH: REASON".
    public var description: String { "\(path): \(reason)" }
    /// The same as `description`.
    public var errorDescription: String? { description }
}
