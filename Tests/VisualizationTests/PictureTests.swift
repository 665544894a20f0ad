import Datasets
import Foundation
import Testing
import Visualization

@Suite struct PictureTests {
    @Test func gridSizeFollowsFromTheCountTheImageSizeTheGapAndTheScale() {
        let images = [Float](repeating: 1, count: 16 * 28 * 28)
        let grid = ImageGrid.make(images: images, shape: .grey(height: 28, width: 28), rows: 2, columns: 8, gap: 1, scale: 2)
        #expect(grid.width == (8 * 28 + 9) * 2)
        #expect(grid.height == (2 * 28 + 3) * 2)
        // The separating lines are grey, the cells white.
        #expect(grid[0, 0] == 128)
        #expect(grid[2, 2] == 255)
    }

    @Test func gridPlacesEachImageInItsCell() {
        // Two 2x2 images: the first black, the second white, in one row.
        let grid = ImageGrid.make(images: [0, 0, 0, 0, 1, 1, 1, 1], shape: .grey(height: 2, width: 2), rows: 1, columns: 2, gap: 1)
        #expect(grid.width == 7 && grid.height == 4)
        #expect(grid[1, 1] == 0 && grid[2, 2] == 0)
        #expect(grid[4, 1] == 255 && grid[5, 2] == 255)
        #expect(grid[3, 1] == 128)
    }

    @Test func pngRoundTripsThroughLibpng() throws {
        let image = Picture(width: 5, height: 3, pixels: (0..<15).map { UInt8($0 * 17) })
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("grey-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: url) }
        try image.writePNG(to: url)
        let data = try Data(contentsOf: url)
        #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(try Picture.read(from: url) == image)
        // Colour round-trips as colour; one image's values make the picture a 1x1 grid would.
        let colour = Picture(width: 2, height: 1, channels: 3, pixels: [255, 0, 0, 10, 20, 30])
        try colour.writePNG(to: url)
        #expect(try Picture.read(from: url) == colour)
        let values: [Float] = [1, 10.0 / 255, 0, 20.0 / 255, 0, 30.0 / 255]
        let shape = ImageShape(channels: 3, height: 1, width: 2)
        #expect(Picture(values: values, shape: shape) == colour)
        #expect(ImageGrid.make(images: values, shape: shape, rows: 1, columns: 1, gap: 0) == colour)
    }

    @Test func readingSomethingThatIsNotAPNGNamesTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("not-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("hello".utf8).write(to: url)
        #expect { try Picture.read(from: url) } throws: { error in
            (error as? PictureError).map { "\($0.localizedDescription)".contains(url.path) } ?? false
        }
    }

    @Test func linePlotSVGDrawsEachSeriesInItsColourTwiceLineAndLegend() throws {
        let plot = LinePlot(title: "curves", xLabel: "epoch", yLabel: "loss", series: [
            .init(name: "train", points: [(1, 160), (2, 120), (3, 110)], colour: Colour.qualitative[0]),
            .init(name: "test", points: [(1, 130), (2, 115), (3, 108)], colour: Colour.qualitative[1], dashed: true),
        ])
        let svg = String(decoding: try plot.svgData(), as: UTF8.self)
        #expect(svg.hasPrefix("<?xml"))
        #expect(svg.contains("<svg"))
        let png = try plot.pngData()
        #expect(Array(png.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
        // Each series' colour strokes exactly its line and its legend sample.
        #expect(svg.components(separatedBy: "stroke:rgb(0%,44.7%,69.8%)").count - 1 == 2)
        #expect(svg.components(separatedBy: "stroke:rgb(83.5%,36.9%,0%)").count - 1 == 2)
        #expect(svg.components(separatedBy: "stroke:rgb(0%,62%,45.1%)").count - 1 == 0)
    }

    @Test func ticksAreRoundNumbersCoveringTheRange() {
        #expect(Axis.ticks(low: 97.3, high: 163.2) == [80, 100, 120, 140, 160, 180])
        #expect(Axis.ticks(low: 0.013, high: 0.052) == [0.01, 0.02, 0.03, 0.04, 0.05, 0.06])
        #expect(Axis.ticks(low: 1, high: 10) == [0, 2, 4, 6, 8, 10])
        #expect(Axis.ticks(low: 5, high: 5).count >= 2)
    }

    @Test func qualitativePaletteHasTenDistinctColours() {
        #expect(Set(Colour.qualitative.map { "\($0.red),\($0.green),\($0.blue)" }).count == 10)
    }
}
