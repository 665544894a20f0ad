import Foundation

/// The classic deskew measure of a grey image: with the intensity I as mass, x the column and
/// y the row index, the centred second moments μ11 = Σ I (x − x̄)(y − ȳ) / Σ I and
/// μ02 = Σ I (y − ȳ)² / Σ I give the slant μ11 / μ02 (how far x moves per row; 0 is upright).
public enum Slant {
    /// The slant μ11 / μ02 of one grey image (`width` · `height` intensities, row-major); 0 for a blank image.
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
