import Datasets
import Foundation

/// The classic deskew measure of a grey image: with the intensity I as mass, x the column and
/// y the row index, the centred second moments μ11 = Σ I (x − x̄)(y − ȳ) / Σ I and
/// μ02 = Σ I (y − ȳ)² / Σ I give the slant μ11 / μ02 (how far x moves per row; 0 is upright).
public enum Slant {
    public static func of(_ image: ArraySlice<Float>, width: Int, height: Int) -> Double {
        precondition(image.count == width * height, "a \(width)x\(height) image needs \(width * height) values")
        let base = image.startIndex
        var (mass, sumX, sumY) = (0.0, 0.0, 0.0)
        for y in 0..<height {
            for x in 0..<width {
                let value = Double(max(image[base + y * width + x], 0))
                (mass, sumX, sumY) = (mass + value, sumX + value * Double(x), sumY + value * Double(y))
            }
        }
        guard mass > 0 else { return 0 }
        let (meanX, meanY) = (sumX / mass, sumY / mass)
        var (mu11, mu02) = (0.0, 0.0)
        for y in 0..<height {
            for x in 0..<width {
                let value = Double(max(image[base + y * width + x], 0))
                mu11 += value * (Double(x) - meanX) * (Double(y) - meanY)
                mu02 += value * (Double(y) - meanY) * (Double(y) - meanY)
            }
        }
        return mu02 > 0 ? mu11 / mu02 : 0
    }

    /// The slant of every image in [count, width · height].
    public static func ofEach(_ images: [Float], width: Int, height: Int) -> [Double] {
        let size = width * height
        return stride(from: 0, to: images.count, by: size).map { of(images[$0..<($0 + size)], width: width, height: height) }
    }

    /// Mean |slant|.
    public static func meanMagnitude(_ slants: [Double]) -> Double { slants.reduce(0) { $0 + abs($1) } / Double(max(slants.count, 1)) }

    /// The standard deviation of the slant within each class, averaged over the classes present.
    public static func withinClassDeviation(_ slants: [Double], labels: [Int]) -> Double {
        let classes = Set(labels).sorted()
        let deviations = classes.map { label -> Double in
            let values = zip(slants, labels).filter { $0.1 == label }.map(\.0)
            let mean = values.reduce(0, +) / Double(values.count)
            return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(values.count - 1, 1))).squareRoot()
        }
        return deviations.reduce(0, +) / Double(max(deviations.count, 1))
    }
}

/// Design B's figures on a labelled set (usually the 10,000 test images), with z = μ.
public struct NormalizationReport: Codable, Equatable, Sendable {
    public var images: Int
    public var inputSlant: Double
    public var normalizedSlant: Double
    public var inputSlantWithinClassDeviation: Double
    public var normalizedSlantWithinClassDeviation: Double
    public var reconstructionMSE: Double
    public var accuracy: Double
    public var klPerDimension: [Double]
    /// Mean |avg-pool₃(render at 3h x 3w) − render at h x w|, transform on, over `resolutionImages`.
    public var resolutionDifference: Double
    public var resolutionImages: Int

    public var isCollapsed: Bool { klPerDimension.allSatisfy { $0 < 0.01 } }
}

extension AffineVAE {
    /// Computes the `NormalizationReport` on `dataset`; the resolution check uses its first
    /// `resolutionImages` images.
    public func normalizationReport(_ dataset: ImageDataset, resolutionImages: Int = 1000) -> NormalizationReport {
        let (width, height) = (configuration.imageWidth, configuration.imageHeight)
        let (means, kl) = latentMeans(dataset.pixels)
        let reconstructed = renderImages(means)
        let normalized = renderImages(means, transformOn: false)
        var squared = 0.0
        for index in reconstructed.indices {
            let d = Double(reconstructed[index]) - Double(dataset.pixels[index])
            squared += d * d
        }
        let evaluation = evaluate(dataset)
        let inputSlants = Slant.ofEach(dataset.pixels, width: width, height: height)
        let normalizedSlants = Slant.ofEach(normalized, width: width, height: height)

        let checked = min(resolutionImages, dataset.count), latent = configuration.latentSize
        let someMeans = Array(means[0..<(checked * latent)])
        let fine = renderImages(someMeans, grid: PixelGrid(width: 3 * width, height: 3 * height), batchSize: 20)
        var difference = 0.0
        let fineWidth = 3 * width, fineSize = 9 * width * height, size = width * height
        for image in 0..<checked {
            for y in 0..<height {
                for x in 0..<width {
                    var total: Float = 0
                    for dy in 0..<3 {
                        let start = image * fineSize + (3 * y + dy) * fineWidth + 3 * x
                        total += fine[start] + fine[start + 1] + fine[start + 2]
                    }
                    let coarse: Float = reconstructed[image * size + y * width + x]
                    difference += Double(abs(total / 9 - coarse))
                }
            }
        }
        return NormalizationReport(
            images: dataset.count, inputSlant: Slant.meanMagnitude(inputSlants), normalizedSlant: Slant.meanMagnitude(normalizedSlants),
            inputSlantWithinClassDeviation: Slant.withinClassDeviation(inputSlants, labels: dataset.labels),
            normalizedSlantWithinClassDeviation: Slant.withinClassDeviation(normalizedSlants, labels: dataset.labels),
            reconstructionMSE: squared / Double(max(reconstructed.count, 1)), accuracy: evaluation.accuracy, klPerDimension: kl,
            resolutionDifference: difference / Double(max(checked * width * height, 1)), resolutionImages: checked)
    }
}
