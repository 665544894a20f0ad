import Datasets
import Foundation
import NN
import Optimizers
import SafeTensors
import TensorCore
import VAE

/// A small convolutional classifier (LeNet-style, with strided convolutions in place of
/// pooling) that judges generated images and gives the feature space their quality is measured
/// in: does a conditional model's sample of class k look like class k, and how far apart are the
/// generated and the real images' features (Fréchet distance, KID, precision and recall)?
///
/// Architecture (images [N, C, H, W]): one convolution per entry of `convolutionChannels` (3x3,
/// stride 2, padding 1, ReLU), flatten, dense `hiddenSize` with ReLU (the features, the
/// penultimate layer), dense K (logits). Trained with softmax cross-entropy and Adam (batch 128,
/// the learning rate halved over the last half of the epochs). Saved as safetensors with its
/// architecture, image shape, classes and test accuracy in the metadata.
public final class ImageClassifier: Module {
    /// The convolutions.
    public let convolutions: [Conv2D]
    /// The hidden dense layer, whose output (after ReLU) is the feature vector.
    public let hidden: Linear
    /// The layer to one logit per class.
    public let output: Linear
    let flatten = Flatten()
    /// The images' shape.
    public let imageShape: ImageShape
    /// The class names by label.
    public let classNames: [String]
    /// The output channels of each convolution.
    public let convolutionChannels: [Int]

    /// The architecture of classifiers trained by this version: three convolutions and a
    /// 128-wide feature layer (about 190,000 parameters on 28x28 images).
    public static let defaultConvolutionChannels = [32, 64, 64]
    /// The width of the default feature layer.
    public static let defaultHiddenSize = 128

    /// An untrained classifier for `imageShape` images and `classNames`, weights drawn from `generator`.
    public init(imageShape: ImageShape, classNames: [String], convolutionChannels: [Int] = defaultConvolutionChannels,
                hiddenSize: Int = defaultHiddenSize, using generator: inout RandomGenerator) {
        precondition(classNames.count >= 2, "a classifier needs at least two classes")
        precondition(!convolutionChannels.isEmpty && convolutionChannels.allSatisfy { $0 > 0 } && hiddenSize > 0, "a classifier needs convolutions and a feature layer")
        self.imageShape = imageShape
        self.classNames = classNames
        self.convolutionChannels = convolutionChannels
        var inputs = imageShape.channels
        var layers: [Conv2D] = []
        for channels in convolutionChannels {
            layers.append(Conv2D(inputChannels: inputs, outputChannels: channels, kernel: SpatialPair(3), stride: SpatialPair(2),
                                 padding: SpatialPair(1), using: &generator))
            inputs = channels
        }
        convolutions = layers
        let (height, width) = Self.featureSize(imageShape, convolutions: convolutionChannels.count)
        hidden = Linear(inputSize: inputs * height * width, outputSize: hiddenSize, using: &generator)
        output = Linear(inputSize: hiddenSize, outputSize: classNames.count, using: &generator)
    }

    /// The grid after `convolutions` stride-2 convolutions (kernel 3, padding 1): each halves a
    /// side, rounding up.
    static func featureSize(_ shape: ImageShape, convolutions: Int) -> (Int, Int) {
        func after(_ size: Int) -> Int {
            var size = size
            for _ in 0..<convolutions { size = (size - 1) / 2 + 1 }
            return size
        }
        return (after(shape.height), after(shape.width))
    }

    /// The dimension of the feature vector (the penultimate layer).
    public var featureSize: Int { hidden.outputSize }

    /// The number of classes.
    public var classCount: Int { classNames.count }

    /// The features [N, hiddenSize] of images [N, C · H · W] (planar): the penultimate layer,
    /// after its ReLU.
    public func features(_ images: Tensor) -> Tensor {
        var h = images.reshaped(to: [images.shape[0], imageShape.channels, imageShape.height, imageShape.width])
        for layer in convolutions { h = layer(h).relu() }
        return hidden(flatten(h), then: .relu)
    }

    /// Logits [N, K] of images [N, C · H · W] (planar).
    public func logits(_ images: Tensor) -> Tensor { output(features(images)) }

    /// The features and the most likely class of each image ([count * C · H · W] values):
    /// `features` is [count, featureSize] row-major.
    public func featuresAndPredictions(images: [Float], batchSize: Int = 500) -> (features: [Float], labels: [Int]) {
        let width = imageShape.count
        precondition(images.count % width == 0, "\(images.count) values are not whole \(imageShape) images")
        let count = images.count / width
        var features: [Float] = [], labels: [Int] = []
        features.reserveCapacity(count * featureSize)
        labels.reserveCapacity(count)
        withoutGradients {
            images.withUnsafeBufferPointer { all in
                for start in stride(from: 0, to: count, by: batchSize) {
                    let rows = min(batchSize, count - start)
                    let batch = Tensor(shape: [rows, width], scalars: Array(all[(start * width)..<((start + rows) * width)]))
                    let hiddenValues = self.features(batch)
                    let scores = output(hiddenValues).scalars
                    features += hiddenValues.scalars
                    for row in 0..<rows {
                        let slice = scores[(row * classCount)..<((row + 1) * classCount)]
                        labels.append(slice.indices.max { slice[$0] < slice[$1] }! - row * classCount)
                    }
                }
            }
        }
        return (features, labels)
    }

    /// The most likely class of each image ([count * C · H · W] values).
    public func predict(images: [Float], batchSize: Int = 500) -> [Int] {
        featuresAndPredictions(images: images, batchSize: batchSize).labels
    }

    /// The share of `dataset`'s images classified as their label.
    public func accuracy(on dataset: ImageDataset) -> Double {
        precondition(dataset.isLabelled, "accuracy needs labels")
        let predicted = predict(images: dataset.pixels)
        return Double(zip(predicted, dataset.labels).filter { $0 == $1 }.count) / Double(max(dataset.count, 1))
    }

    /// Trains a new classifier on `train` for `epochs` epochs (weights and order from `seed`; the
    /// rate is `learningRate` for the first half of the epochs, half of it for the next quarter
    /// and a quarter of it for the last). Each training image is moved by a random offset of up
    /// to `shift` pixels each way (zeros move in), a seeded augmentation against overfitting;
    /// `onEpoch(epoch, meanLoss)` after each.
    public static func train(on train: ImageDataset, epochs: Int, seed: UInt64, batchSize: Int = 128, learningRate: Float = 1e-3,
                             convolutionChannels: [Int] = defaultConvolutionChannels, hiddenSize: Int = defaultHiddenSize,
                             shift: Int = 2, onEpoch: (_ epoch: Int, _ loss: Double) -> Void = { _, _ in }) -> ImageClassifier {
        precondition(train.isLabelled && train.classCount >= 2, "the classifier trains on labelled images of at least two classes")
        precondition(epochs >= 1 && batchSize >= 1, "need at least one epoch and one image per batch")
        var generator = RandomGenerator(seed: seed)
        let classifier = ImageClassifier(imageShape: train.shape, classNames: train.classNames, convolutionChannels: convolutionChannels,
                                         hiddenSize: hiddenSize, using: &generator)
        let optimizer = Adam(parameters: classifier.parameters, learningRate: learningRate)
        let width = train.shape.count
        SubnormalFlushing.withSubnormalsFlushedToZero {
            for epoch in 1...epochs {
                optimizer.learningRate = learningRate * LearningRateSchedule.halvingFactor(epoch: epoch, of: epochs)
                let order = generator.permutation(train.count)
                var lossSum = 0.0
                for start in stride(from: 0, to: train.count, by: batchSize) {
                    let rows = min(batchSize, train.count - start)
                    var pixels = [Float](repeating: 0, count: rows * width)
                    for r in 0..<rows {
                        let image = train.image(order[start + r])
                        if shift == 0 {
                            pixels.replaceSubrange((r * width)..<((r + 1) * width), with: image)
                        } else {
                            let dy = Int(generator.next() % UInt64(2 * shift + 1)) - shift, dx = Int(generator.next() % UInt64(2 * shift + 1)) - shift
                            Self.translate(image, shape: train.shape, by: (dy, dx), into: &pixels, at: r * width)
                        }
                    }
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

    /// Copies `image` (planar [C, H, W]) moved down `offset.rows` and right `offset.columns`
    /// pixels into `destination` from `start`; what moves in from outside is zero.
    static func translate(_ image: ArraySlice<Float>, shape: ImageShape, by offset: (rows: Int, columns: Int), into destination: inout [Float], at start: Int) {
        let (height, width) = (shape.height, shape.width)
        let base = image.startIndex
        for channel in 0..<shape.channels {
            for y in 0..<height {
                let sourceY = y - offset.rows
                for x in 0..<width {
                    let sourceX = x - offset.columns
                    let inside = sourceY >= 0 && sourceY < height && sourceX >= 0 && sourceX < width
                    destination[start + (channel * height + y) * width + x] = inside ? image[base + (channel * height + sourceY) * width + sourceX] : 0
                }
            }
        }
    }

    /// Writes the weights with the image shape, class names and `accuracy` in the metadata.
    public func save(to url: URL, testAccuracy: Double) throws(SafeTensorsError) {
        let shape = imageShape
        let names = (try? JSONEncoder().encode(classNames)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        try save(to: url, metadata: ["kind": "image-classifier", "channels": "\(shape.channels)", "height": "\(shape.height)",
                                     "width": "\(shape.width)", "class_names": names,
                                     "convolution_channels": convolutionChannels.map(String.init).joined(separator: ","), "hidden_size": "\(featureSize)", "test_accuracy": String(format: "%.6f", testAccuracy)])
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
        // Files written before the architecture was recorded hold two convolutions (32, 64).
        var convolutionChannels = [32, 64]
        if let text = metadata["convolution_channels"] {
            let values = text.split(separator: ",").map { Int($0) }
            guard (1...8).contains(values.count), values.allSatisfy({ $0.map { (1...1024).contains($0) } ?? false }) else {
                throw ClassifierFileError(path: url.path, reason: "metadata convolution_channels: expected 1...8 comma-separated integers in 1...1024, got \(text)")
            }
            convolutionChannels = values.map { $0! }
        }
        let hiddenSize = metadata["hidden_size"] == nil ? defaultHiddenSize : try integer("hidden_size", 1...4096)
        var generator = RandomGenerator(seed: 0)
        let shape = channels == 1 ? ImageShape.grey(height: height, width: width) : ImageShape(channels: 3, height: height, width: width)
        let classifier = ImageClassifier(imageShape: shape, classNames: names, convolutionChannels: convolutionChannels, hiddenSize: hiddenSize,
                                         using: &generator)
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
