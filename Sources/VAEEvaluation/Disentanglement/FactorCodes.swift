import Datasets
import Foundation
import TensorCore

/// The mean codes of every image of a factor grid (dSprites' 737,280): what the disentanglement
/// metrics read, as disentanglement_lib reads its "representation function" (the posterior
/// means). Encoding the grid once and looking codes up gives the same figures as encoding each
/// sampled batch, at a fraction of the cost (the metrics draw about three million images).
/// Shapes: `codes` is [count, size], image i's code at i · size.
public struct FactorCodes: Sendable {
    /// The grid's factors, in its order (the last varies fastest), constant ones included.
    public let grid: [Factor]
    /// Each image's code, image after image.
    public let codes: [Float]
    /// Code dimensions.
    public let size: Int

    /// The codes of the `DSprites.count(grid)` images of `grid`, in the grid's order.
    public init(grid: [Factor], codes: [Float], size: Int) {
        precondition(size > 0 && codes.count == DSprites.count(grid) * size, "\(codes.count) code values for \(DSprites.count(grid)) images of \(size) dimensions")
        (self.grid, self.codes, self.size) = (grid, codes, size)
    }

    /// The number of images.
    public var count: Int { codes.count / size }
    /// The grid positions of the factors that vary (more than one class): the metrics' factors
    /// (dSprites' shape, scale, orientation, posX and posY, as disentanglement_lib's `DSprites`).
    public var factorPositions: [Int] { grid.indices.filter { grid[$0].count > 1 } }
    /// The metrics' factors.
    public var factors: [Factor] { factorPositions.map { grid[$0] } }

    /// Image `index`'s code, as Doubles.
    public func code(_ index: Int) -> [Double] { (0..<size).map { Double(codes[index * size + $0]) } }

    /// The classes of the metrics' factors for image `index`.
    public func factorClasses(_ index: Int) -> [Int] {
        let all = DSprites.classes(ofImage: index, grid: grid)
        return factorPositions.map { all[$0] }
    }

    /// The image with these classes of the metrics' factors (constant factors at class 0).
    public func index(ofFactorClasses classes: [Int]) -> Int {
        var all = [Int](repeating: 0, count: grid.count)
        for (position, value) in zip(factorPositions, classes) { all[position] = value }
        return DSprites.index(ofClasses: all, grid: grid)
    }

    /// Codes of `indices` as columns, [size][indices.count] (disentanglement_lib's `mus`).
    public func codeColumns(_ indices: [Int]) -> [[Double]] {
        (0..<size).map { dimension in indices.map { Double(codes[$0 * size + dimension]) } }
    }

    /// Factor classes of `indices` as columns, [factors][indices.count] (disentanglement_lib's `ys`).
    public func factorColumns(_ indices: [Int]) -> [[Int]] {
        let classes = indices.map(factorClasses)
        return factorPositions.indices.map { factor in classes.map { $0[factor] } }
    }

    /// One draw of the metrics' factors, each class uniform and independent
    /// (disentanglement_lib's `sample_factors`).
    public func drawClasses(using generator: inout RandomGenerator) -> [Int] {
        factors.map { Int.random(in: 0..<$0.count, using: &generator) }
    }

    /// `count` images drawn uniformly (disentanglement_lib's `sample`).
    public func drawImages(_ count: Int, using generator: inout RandomGenerator) -> [Int] {
        (0..<count).map { _ in index(ofFactorClasses: drawClasses(using: &generator)) }
    }
}
