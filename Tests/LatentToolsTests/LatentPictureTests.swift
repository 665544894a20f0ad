import Foundation
import LatentTools
import TensorCore
import Testing
import VAE
import VAEModels
import Visualization

/// A randomly initialised 8x8-image model: pictures are checked against the model's own decoder.
func smallExplorer(latentSize: Int = 3, seed: UInt64 = 4) -> LatentExplorer {
    var generator = RandomGenerator(seed: seed)
    let model = try! MLPVAE(MLPConfiguration(inputSize: 64, hiddenSizes: [16], latentSize: latentSize), using: &generator)
    return try! LatentExplorer(model: model)
}

/// `count` 8x8 images with a bright bar whose position depends on the index.
func barImages(_ count: Int) -> [Float] {
    (0..<count).flatMap { index in (0..<64).map { pixel in pixel / 8 == index % 8 || pixel % 8 == (index * 3) % 8 ? Float(0.9) : 0.05 } }
}

/// The grey levels of cell (row, column) of a grid with 8x8 cells, 1-pixel gaps, scale 1.
func cell(_ grid: Picture, row: Int, column: Int) -> [UInt8] {
    (0..<8).flatMap { y in (0..<8).map { x in grid[1 + column * 9 + x, 1 + row * 9 + y] } }
}

@Suite struct LatentPictureTests {
    @Test func aLabelThatDoesNotFitTheModelIsAThrownError() throws {
        var generator = RandomGenerator(seed: 1)
        let unconditional = try MLPVAE(MLPConfiguration(inputSize: 64, hiddenSizes: [16], latentSize: 2), using: &generator)
        #expect(throws: ConditionError.self) { try LatentExplorer(model: unconditional, label: 0) }
        var configuration = MLPConfiguration(inputSize: 64, hiddenSizes: [16], latentSize: 2)
        configuration.conditionClasses = 3
        let conditional = try MLPVAE(configuration, using: &generator)
        var explorer = try LatentExplorer(model: conditional, label: 2)
        #expect(explorer.label == 2)
        #expect(throws: ConditionError.self) { try explorer.setLabel(3) }
        #expect(throws: ConditionError.self) { try explorer.setLabel(-1) }
        #expect(explorer.label == 2, "a refused label leaves the explorer as it was")
        try explorer.setLabel(nil)
        #expect(explorer.label == nil)
    }

    @Test func reconstructionGridSizeFollowsFromTheCountTheColumnsAndTheImageSize() {
        let explorer = smallExplorer()
        var noSampling: RandomGenerator? = nil
        let grid = explorer.reconstructionGrid(images: barImages(10), columns: 4, scale: 2, using: &noSampling)
        // 10 images in rows of 4: 3 rows of inputs, each above its reconstructions.
        #expect(grid.width == (4 * 8 + 5) * 2)
        #expect(grid.height == (6 * 8 + 7) * 2)
    }

    @Test func reconstructionGridShowsEachInputAboveItsReconstruction() {
        let explorer = smallExplorer()
        let images = barImages(6)
        var noSampling: RandomGenerator? = nil
        let grid = explorer.reconstructionGrid(images: images, columns: 4, scale: 1, using: &noSampling)
        var none: RandomGenerator? = nil
        let decoded = explorer.model.reconstruct(images: images, using: &none)
        for index in 0..<6 {
            let (row, column) = (2 * (index / 4), index % 4)
            #expect(cell(grid, row: row, column: column) == images[(index * 64)..<((index + 1) * 64)].map(Picture.level))
            #expect(cell(grid, row: row + 1, column: column) == decoded[(index * 64)..<((index + 1) * 64)].map(Picture.level))
        }
        // The two cells after the sixth image are blank in both rows.
        #expect(cell(grid, row: 2, column: 3).allSatisfy { $0 == 128 })
        #expect(cell(grid, row: 3, column: 2).allSatisfy { $0 == 128 })
    }

    @Test func sampledReconstructionsDependOnTheSeedAndRepeatWithIt() {
        let explorer = smallExplorer()
        func picture(_ seed: UInt64) -> Picture {
            var generator: RandomGenerator? = RandomGenerator(seed: seed)
            return explorer.reconstructionGrid(images: barImages(4), columns: 4, scale: 1, using: &generator)
        }
        #expect(picture(1) == picture(1))
        #expect(picture(1) != picture(2))
    }

    @Test func decodingTheSameLatentTwiceGivesTheSamePixels() {
        let explorer = smallExplorer()
        let values = NormalQuantile.grid(count: 5)
        let base = [Float](repeating: 0.3, count: 3)
        // One latent decoded alone and inside a batch of 25 (another matrix shape) gives one image.
        var latents: [Float] = []
        for x in values { for y in values { latents += [Float(x), base[1], Float(y)] } }
        let batched = explorer.model.decode(latents: latents)
        let alone = explorer.model.decode(latents: Array(latents[36..<39]))
        #expect(zip(alone, batched[(12 * 64)..<(13 * 64)]).allSatisfy { abs($0 - $1) < 1e-6 })
        var a = RandomGenerator(seed: 7), b = RandomGenerator(seed: 7), c = RandomGenerator(seed: 8)
        let samples = explorer.priorSampleGrid(count: 6, temperature: 1, columns: 3, scale: 1, using: &a)
        #expect(samples == explorer.priorSampleGrid(count: 6, temperature: 1, columns: 3, scale: 1, using: &b))
        #expect(samples != explorer.priorSampleGrid(count: 6, temperature: 1, columns: 3, scale: 1, using: &c))
        #expect(samples.width == 3 * 8 + 4 && samples.height == 2 * 8 + 3)
    }

    @Test func priorSamplesAreScaledByTheTemperature() {
        let explorer = smallExplorer()
        var a = RandomGenerator(seed: 3), b = RandomGenerator(seed: 3)
        let unit = explorer.priorLatents(count: 100, temperature: 1, using: &a)
        let cooled = explorer.priorLatents(count: 100, temperature: 0.5, using: &b)
        #expect(zip(unit, cooled).allSatisfy { abs($0.0 * 0.5 - $0.1) < 1e-6 })
        let variance = unit.reduce(0) { $0 + Double($1 * $1) } / Double(unit.count)
        #expect(abs(variance - 1) < 0.2)
    }

    @Test func manifoldRunsTheFirstDimensionLeftToRightAndTheSecondBottomToTop() {
        let explorer = smallExplorer()
        let (xs, ys) = ([-1.0, 0, 1], [-2.0, 2])
        let base: [Float] = [0.5, 0.6, 0.7]
        let latents = explorer.manifoldLatents(horizontal: 2, vertical: 0, xValues: xs, yValues: ys, base: base)
        #expect(latents.count == 6 * 3)
        // Top-left cell: smallest x, largest y; bottom-right: largest x, smallest y; dimension 1 held.
        #expect(Array(latents[0..<3]) == [2, 0.6, -1])
        #expect(Array(latents[15..<18]) == [-2, 0.6, 1])
        let grid = explorer.manifoldGrid(horizontal: 2, vertical: 0, xValues: xs, yValues: ys, base: base, scale: 1)
        #expect(grid.width == 3 * 8 + 4 && grid.height == 2 * 8 + 3)
        let decoded = explorer.model.decode(latents: latents)
        for index in 0..<6 {
            #expect(cell(grid, row: index / 3, column: index % 3) == decoded[(index * 64)..<((index + 1) * 64)].map(Picture.level))
        }
    }

    @Test func interpolationStripStartsAndEndsWithTheInputsAndDecodesBothMeans() {
        let explorer = smallExplorer()
        let images = barImages(2)
        let (first, second) = (Array(images[0..<64]), Array(images[64..<128]))
        let strip = explorer.interpolationStrip(from: first, to: second, steps: 5, path: .spherical, scale: 1)
        #expect(strip.width == 7 * 8 + 8 && strip.height == 8 + 2)
        #expect(cell(strip, row: 0, column: 0) == first.map(Picture.level))
        #expect(cell(strip, row: 0, column: 6) == second.map(Picture.level))
        var none: RandomGenerator? = nil
        let decodedMeans = explorer.model.reconstruct(images: images, using: &none)
        #expect(cell(strip, row: 0, column: 1) == decodedMeans[0..<64].map(Picture.level))
        #expect(cell(strip, row: 0, column: 5) == decodedMeans[64..<128].map(Picture.level))
    }

    @Test func traversalRowsFollowTheKLOrderAndVaryOnlyTheirDimension() {
        #expect(LatentExplorer.informativeOrder(klPerDimension: [0.1, 2, 0.5, 2]) == [1, 3, 2, 0])
        let explorer = smallExplorer()
        let base: [Float] = [0.1, -0.2, 0.3]
        let values = [-2.0, 0, 2]
        let grid = explorer.traversalGrid(base: base, dimensions: [2, 0], values: values, scale: 1)
        #expect(grid.width == 3 * 8 + 4 && grid.height == 2 * 8 + 3)
        // Row 0 (dimension 2) at its last value; row 1 (dimension 0) at its first.
        let expected = explorer.model.decode(latents: [0.1, -0.2, 2, -2, -0.2, 0.3])
        #expect(cell(grid, row: 0, column: 2) == expected[0..<64].map(Picture.level))
        #expect(cell(grid, row: 1, column: 0) == expected[64..<128].map(Picture.level))
    }
}
