import Datasets
import TensorCore

/// A small stand-in for MNIST: `count` 8x8 grey images of bars (label 0-3: a horizontal bar in
/// one of two rows, or a vertical bar in one of two columns) with a little seeded noise.
enum SyntheticDigits {
    static func make(count: Int, seed: UInt64) -> ImageDataset {
        var generator = RandomGenerator(seed: seed)
        var pixels: [Float] = []
        var labels: [Int] = []
        for _ in 0..<count {
            let label = Int(generator.next() % 4)
            var image = [Float](repeating: 0, count: 64)
            for k in 0..<8 {
                let index = switch label {
                case 0: 2 * 8 + k
                case 1: 5 * 8 + k
                case 2: k * 8 + 2
                default: k * 8 + 5
                }
                image[index] = 0.8 + 0.2 * generator.nextUniform()
            }
            for p in 0..<64 where image[p] == 0 { image[p] = 0.1 * generator.nextUniform() }
            pixels += image
            labels.append(label)
        }
        return ImageDataset(pixels: pixels, labels: labels, height: 8, width: 8)
    }
}
