import Datasets
import Foundation
import NN
import TensorCore
import VAE

/// The figures of an affine model on a set of images, with z = μ: reconstruction MSE with the learned
/// transform (per pixel), the classifier head's accuracy, and the KL per latent dimension.
public struct AffineEvaluation: Codable, Equatable, Sendable {
    /// The images evaluated.
    public var images: Int
    /// Mean squared error per pixel of the reconstruction with the learned transform.
    public var reconstructionMSE: Double
    /// The classifier head's accuracy on the content part of μ.
    public var accuracy: Double
    /// KL(q(z_j | x) ‖ N(0, 1)) per latent dimension, averaged over the images.
    public var klPerDimension: [Double]

    /// True when every dimension's KL is near 0: the latents carry nothing (a collapsed model).
    public var isCollapsed: Bool { klPerDimension.allSatisfy { $0 < 0.01 } }
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
        let codes = encode(images: dataset.pixels, batchSize: 500)
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
