import TensorCore
import VAE
import Visualization

extension LatentExplorer {
    /// Images over their reconstructions: rows of up to `columns` inputs, each followed by a row
    /// of the same images decoded from z = μ(x), or from one sampled z ~ q(z | x) per image when
    /// `generator` is given. Grid: 2 ⌈N / columns⌉ rows of min(N, columns) cells.
    ///
    /// A conditional model encodes each image with its own label (`imageLabels`) and decodes it
    /// with `label` when set (the image's style written as that class), else with its own.
    public func reconstructionGrid(images: [Float], imageLabels: [Int] = [], columns: Int, scale: Int,
                                   using generator: inout RandomGenerator?) -> Picture {
        let count = images.count / valuesPerImage
        let decodeLabels = model.condition == .none ? [] : (label.map { Array(repeating: $0, count: count) } ?? imageLabels)
        let decoded = split(model.reconstruct(images: images, labels: imageLabels, decodeLabels: decodeLabels, using: &generator))
        let originals = split(images)
        let width = min(columns, originals.count)
        var cells: [[Float]?] = []
        for start in stride(from: 0, to: originals.count, by: width) {
            let end = min(start + width, originals.count)
            let padding = [[Float]?](repeating: nil, count: width - (end - start))
            cells += originals[start..<end].map { $0 } + padding
            cells += decoded[start..<end].map { $0 } + padding
        }
        return grid(cells, columns: width, scale: scale)
    }
}
