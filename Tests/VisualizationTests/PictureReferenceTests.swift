import Datasets
import Foundation
import Testing
import Visualization

/// Rendered pictures against committed references (Fixtures/*.png), within a tolerance for the
/// font rasteriser: titles that fit their canvas, whole-number epoch ticks, grids whose rows are
/// full. `VAE_RECORD_PICTURES=1 swift test --filter PictureReferenceTests` writes the references
/// again after a deliberate change; look at them before committing.
@Suite struct PictureReferenceTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Compares `png` with the reference `name`: the same size, a mean difference of at most 1.5
    /// levels, and at most 0.5% of the values off by more than 64.
    func expectMatchesReference(_ png: Data, _ name: String) throws {
        let reference = Self.fixtures.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["VAE_RECORD_PICTURES"] == "1" {
            try png.write(to: reference)
            return
        }
        let rendered = FileManager.default.temporaryDirectory.appendingPathComponent("rendered-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: rendered) }
        try png.write(to: rendered)
        let actual = try Picture.read(from: rendered), expected = try Picture.read(from: reference)
        #expect(actual.width == expected.width && actual.height == expected.height && actual.channels == expected.channels, "\(name): size")
        guard actual.pixels.count == expected.pixels.count else { return }
        var total = 0, far = 0
        for (a, b) in zip(actual.pixels, expected.pixels) {
            let difference = abs(Int(a) - Int(b))
            total += difference
            if difference > 64 { far += 1 }
        }
        let mean = Double(total) / Double(actual.pixels.count), share = Double(far) / Double(actual.pixels.count)
        #expect(mean <= 1.5 && share <= 0.005, "\(name): mean difference \(mean) levels, \(share * 100)% of values far off")
    }

    /// A long title on a plot of three epochs.
    static var longTitledPlot: LinePlot {
        let points: [(x: Double, y: Double)] = [(1, 180), (2, 140), (3, 125)]
        return LinePlot(title: "hierarchical-colour: 3 groups at 4x4, 8x8, 16x16, 64 channels, 2 cells per scale on /data/some/long/folder/of/images",
                        xLabel: "epoch", yLabel: "nats", series: [.init(name: "train", points: points, colour: Colour.qualitative[0])], integerX: true)
    }

    @Test func aLongTitleShrinksToFitItsCanvas() throws {
        let png = try Self.longTitledPlot.pngData()
        let rendered = FileManager.default.temporaryDirectory.appendingPathComponent("title-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: rendered) }
        try png.write(to: rendered)
        let picture = try Picture.read(from: rendered)
        // Nothing of the title touches the canvas's left or right 4 columns.
        for y in 0..<34 {
            for x in [0, 1, 2, 3, picture.width - 4, picture.width - 3, picture.width - 2, picture.width - 1] {
                for c in 0..<picture.channels { #expect(picture[x, y, c] == 255, "title pixel at \(x), \(y)") }
            }
        }
        try expectMatchesReference(png, "long-title-plot.png")
    }

    @Test func epochTicksAreWholeNumbers() throws {
        #expect(Axis.ticks(low: 1, high: 3, integers: true) == [1, 2, 3])
        #expect(Axis.ticks(low: 1, high: 1, integers: true) == [0, 1, 2])
        #expect(Axis.ticks(low: 1, high: 30, integers: true) == [0, 5, 10, 15, 20, 25, 30])
        #expect(Axis.ticks(low: 1, high: 3).contains(1.5), "without integers the ticks may fall between")
        let onePoint = LinePlot(title: "one epoch", xLabel: "epoch", yLabel: "nats",
                                series: [.init(name: "train", points: [(1, 180)], colour: Colour.qualitative[0])], integerX: true)
        try expectMatchesReference(try onePoint.pngData(), "one-epoch-plot.png")
    }

    @Test func aGridOfSamplesFillsEveryRow() throws {
        #expect(ImageGrid.balancedColumns(count: 64, preferred: 8) == 8)
        #expect(ImageGrid.balancedColumns(count: 20, preferred: 8) == 10)
        #expect(ImageGrid.balancedColumns(count: 60, preferred: 8) == 6)
        #expect(ImageGrid.balancedColumns(count: 7, preferred: 8) == 7)
        #expect(ImageGrid.balancedColumns(count: 3, preferred: 8) == 3)
        #expect(ImageGrid.balancedColumns(count: 37, preferred: 8) == 8, "a prime beyond twice the preference keeps a partial row")
        let shape = ImageShape(channels: 1, height: 4, width: 4)
        let images = (0..<20).flatMap { index in [Float](repeating: Float(index) / 19, count: 16) }
        let columns = ImageGrid.balancedColumns(count: 20, preferred: 8)
        let grid = ImageGrid.make(cells: stride(from: 0, to: images.count, by: 16).map { Array(images[$0..<($0 + 16)]) }, shape: shape,
                                  columns: columns, scale: 2)
        #expect(grid.width == (10 * 4 + 11) * 2 && grid.height == (2 * 4 + 3) * 2)
        try expectMatchesReference(try grid.pngData(), "sample-grid-20.png")
    }
}
