import Datasets
import Foundation
import LatentTools
import TensorCore
import Testing
import VAE
import VAEModels
import Visualization

/// A colour picture goes file -> dataset -> model -> grid picture -> file with every channel of
/// every pixel where it belongs.
@Suite struct ColourRoundTripTests {
    @Test func aColourImageRoundTripsThroughDatasetModelAndPicture() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("colour-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        // 3x2 pictures whose red, green and blue levels all differ, in two classes.
        func levels(_ seed: Int) -> [UInt8] { (0..<18).map { UInt8((37 * $0 + 11 * seed) % 256) } }
        for (index, name) in ["a/0.png", "a/1.png", "b/2.png", "b/3.png"].enumerated() {
            let url = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Picture(width: 3, height: 2, channels: 3, pixels: levels(index)).writePNG(to: url)
        }
        let loaded = try ImageFolder.load(ImageFolderOptions(path: root.path, testShare: 0.25), cacheFolder: nil)
        let dataset = loaded.train
        #expect(dataset.shape == ImageShape(channels: 3, height: 2, width: 3) && dataset.classNames == ["a", "b"])
        // Planar in the dataset: value (c, y, x) is the file's level at (x, y), channel c.
        let first = Array(dataset.image(0))
        var generator = RandomGenerator(seed: 2)
        let model = try MLPVAE(MLPConfiguration(imageShape: dataset.shape, hiddenSizes: [8], latentSize: 2), using: &generator)
        var none: RandomGenerator? = nil
        let decoded = model.reconstruct(images: first, using: &none)
        #expect(decoded.count == 18)
        let explorer = try LatentExplorer(model: model)
        let grid = explorer.grid([first, decoded], columns: 2, scale: 1)
        #expect(grid.channels == 3 && grid.width == 2 * 3 + 3 && grid.height == 2 + 2)
        for c in 0..<3 {
            for y in 0..<2 {
                for x in 0..<3 {
                    #expect(grid[1 + x, 1 + y, c] == Picture.level(first[(c * 2 + y) * 3 + x]))
                    #expect(grid[5 + x, 1 + y, c] == Picture.level(decoded[(c * 2 + y) * 3 + x]))
                }
            }
        }
        // The grid's PNG reads back with the same levels, channel by channel.
        let file = root.appendingPathComponent("grid.png")
        try grid.writePNG(to: file)
        let back = try ImageFile.read(from: file)
        #expect(back.width == grid.width && back.height == grid.height && back.sourceFormat == "PNG RGB")
        for pixel in 0..<(grid.width * grid.height) {
            for c in 0..<3 { #expect(back.rgba[4 * pixel + c] == grid.pixels[3 * pixel + c]) }
        }
    }

    @Test func theFolderKeepsEachFilesLevelsPerChannel() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("colour-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let levels: [UInt8] = (0..<18).map { UInt8(13 * $0) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for name in ["x.png", "y.png"] { try Picture(width: 3, height: 2, channels: 3, pixels: levels).writePNG(to: root.appendingPathComponent(name)) }
        let loaded = try ImageFolder.load(ImageFolderOptions(path: root.path, testShare: 0.5), cacheFolder: nil)
        let image = Array(loaded.train.image(0))
        for c in 0..<3 {
            for pixel in 0..<6 { #expect(image[c * 6 + pixel] == Float(levels[3 * pixel + c]) / 255) }
        }
    }
}
