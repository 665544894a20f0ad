import Foundation

/// How grey pixels in [0, 1] become the targets (and inputs) of a Bernoulli likelihood.
///
/// - `none`: the grey values themselves (the PyTorch and Keras designs).
/// - `threshold`: 1 where the pixel is at least 0.5, else 0 (as NNabla's VAE example binarises MNIST).
/// - `dynamic`: a fresh Bernoulli draw with p = pixel every time an image is used
///   (each epoch sees a new sample; the IWAE paper's setting).
/// - `static`: one Bernoulli draw per pixel, made once from the run's seed and kept.
public enum Binarization: String, CaseIterable, Sendable, Codable {
    case none, threshold, dynamic
    case fixedSample = "static"

    /// A one-line description for `--help` and run records.
    public var summary: String {
        switch self {
        case .none: "grey values in [0, 1]"
        case .threshold: "1 where the pixel is >= 0.5"
        case .dynamic: "a fresh Bernoulli(pixel) draw each time an image is used"
        case .fixedSample: "one Bernoulli(pixel) draw per pixel, made once and kept"
        }
    }

    /// Thresholds at 0.5 in place.
    public static func threshold(_ pixels: inout [Float]) {
        for index in pixels.indices { pixels[index] = pixels[index] >= 0.5 ? 1 : 0 }
    }

    /// Replaces each pixel p by 1 with probability p and 0 otherwise, given uniforms in [0, 1).
    /// `uniforms` must hold `count` values; a pixel is 1 when uniform < p.
    package static func sample(_ pixels: UnsafeMutablePointer<Float>, uniforms: UnsafePointer<Float>, count: Int) {
        for index in 0..<count { pixels[index] = uniforms[index] < pixels[index] ? 1 : 0 }
    }
}
