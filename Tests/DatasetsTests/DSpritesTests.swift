import Datasets
import Foundation
import Testing

/// dSprites' factor grid, its procedural drawing, and its archive read back.
@Suite struct DSpritesTests {
    /// A grid with dSprites' six columns and few classes: 3 shapes x 2 scales x 3 orientations x 2 x 2 positions.
    static let smallGrid: [Factor] = [
        Factor(name: "color", values: [1], isCategorical: true),
        Factor(name: "shape", values: [1, 2, 3], isCategorical: true),
        .evenlySpaced("scale", from: 0.5, to: 1, count: 2),
        .evenlySpaced("orientation", from: 0, to: 2 * Double.pi, count: 3),
        .evenlySpaced("posX", from: 0, to: 1, count: 2),
        .evenlySpaced("posY", from: 0, to: 1, count: 2),
    ]

    static func image(_ classes: [Int], grid: [Factor] = DSprites.factors) -> [UInt8] {
        var pixels = [UInt8](repeating: 9, count: 64 * 64)
        pixels.withUnsafeMutableBufferPointer { DSprites.render(classes: classes, grid: grid, into: $0.baseAddress!) }
        return pixels
    }

    /// The area in pixels and the centre of mass (column, row) of an image.
    static func moments(_ pixels: [UInt8]) -> (area: Int, x: Double, y: Double) {
        var (area, x, y) = (0, 0.0, 0.0)
        for (index, value) in pixels.enumerated() where value == 1 {
            area += 1
            x += Double(index % 64) + 0.5
            y += Double(index / 64) + 0.5
        }
        return (area, x / Double(area), y / Double(area))
    }

    @Test func theGridHasDSpritesFactorsAndOrder() {
        #expect(DSprites.count() == 737_280)
        #expect(DSprites.factors.map(\.count) == [1, 3, 6, 40, 32, 32])
        #expect(DSprites.factors[2].values.first == 0.5 && DSprites.factors[2].values.last == 1)
        #expect(abs(DSprites.factors[3].values.last! - 2 * Double.pi) < 1e-12)
        #expect(DSprites.classes(ofImage: 0) == [0, 0, 0, 0, 0, 0])
        #expect(DSprites.classes(ofImage: 1) == [0, 0, 0, 0, 0, 1])
        #expect(DSprites.classes(ofImage: 32) == [0, 0, 0, 0, 1, 0])
        #expect(DSprites.classes(ofImage: 737_279) == [0, 2, 5, 39, 31, 31])
        for index in [0, 1, 31, 32, 1023, 1024, 40_960, 245_760, 737_279] {
            #expect(DSprites.index(ofClasses: DSprites.classes(ofImage: index)) == index)
        }
    }

    @Test func shapesAreDrawnWhereTheirFactorsSay() {
        for shape in 0..<3 {
            for (x, y) in [(0, 0), (31, 0), (5, 20), (31, 31)] {
                let pixels = Self.image([0, shape, 5, 0, x, y])
                #expect(pixels.allSatisfy { $0 <= 1 })
                let (area, centreX, centreY) = Self.moments(pixels)
                #expect(area > 100)
                // The square and the ellipse are symmetric about their centre; the heart's mass sits above its box's middle.
                let expectedX = DSprites.centre(DSprites.factors[4].values[x]), expectedY = DSprites.centre(DSprites.factors[5].values[y])
                #expect(abs(centreX - expectedX) < 0.6, "shape \(shape) at \(x), \(y): centre x \(centreX), expected \(expectedX)")
                if shape < 2 { #expect(abs(centreY - expectedY) < 0.6, "shape \(shape): centre y \(centreY), expected \(expectedY)") }
            }
        }
    }

    @Test func areaGrowsWithTheSquareOfTheScale() {
        for shape in 0..<3 {
            let small = Self.moments(Self.image([0, shape, 0, 0, 16, 16])).area, large = Self.moments(Self.image([0, shape, 5, 0, 16, 16])).area
            // Within the pixel grid's rounding: a 7.5-pixel square side covers 7 or 8 pixel centres.
            #expect(abs(Double(large) / Double(small) - 4) < 0.75, "shape \(shape): \(small) then \(large) pixels")
        }
        // The square's area at scale 1 is its 15 x 15 pixels.
        #expect(abs(Self.moments(Self.image([0, 0, 5, 0, 16, 16])).area - 225) <= 16)
    }

    @Test func orientationTurnsTheShapeAndAFullTurnDrawsTheSameImage() {
        for shape in 0..<3 {
            #expect(Self.image([0, shape, 5, 0, 10, 20]) == Self.image([0, shape, 5, 39, 10, 20]))
        }
        // A quarter turn maps the square onto itself, not the heart; the ellipse turned a quarter is tall.
        let square = Self.image([0, 0, 5, 0, 16, 16]), squareTurned = Self.image([0, 0, 5, 10, 16, 16])
        #expect(abs(Self.moments(square).area - Self.moments(squareTurned).area) <= 8)
        let ellipse = Self.image([0, 1, 5, 0, 16, 16])
        // Class 10's angle is 10/39 of a turn, near a quarter: the ellipse stands taller than it lay.
        let turned = Self.image([0, 1, 5, 10, 16, 16])
        let rows = (0..<64).filter { row in ellipse[(row * 64)..<(row * 64 + 64)].contains(1) }.count
        let columns = (0..<64).filter { column in (0..<64).contains { ellipse[$0 * 64 + column] == 1 } }.count
        let turnedRows = (0..<64).filter { row in turned[(row * 64)..<(row * 64 + 64)].contains(1) }.count
        #expect(columns > rows + 6 && turnedRows > rows + 6, "ellipse \(columns) wide, \(rows) tall; turned \(turnedRows) tall")
        // The heart at angle 0 is left-right symmetric, and its point is at the bottom (more ink in its upper half).
        for u in stride(from: -12.0, through: 12, by: 0.37) {
            for v in stride(from: -12.0, through: 12, by: 0.41) {
                #expect(DSprites.isInside(shape: 2, u: u, v: v) == DSprites.isInside(shape: 2, u: -u, v: v))
            }
        }
        #expect(DSprites.isInside(shape: 2, u: 0, v: -7) && !DSprites.isInside(shape: 2, u: 0, v: 8))
        let heart = Self.image([0, 2, 5, 0, 16, 16])
        #expect(Self.moments(heart).y < DSprites.centre(DSprites.factors[5].values[16]))
        #expect(abs(Self.moments(heart).x - DSprites.centre(DSprites.factors[4].values[16])) < 0.6)
    }

    @Test func everyImageStaysInsideTheFrame() {
        // The largest shapes, at the corners, turned: nothing touches the border rows and columns.
        var border: [Int] = []
        for position in 0..<64 { border += [position, 63 * 64 + position, position * 64, position * 64 + 63] }
        let corners: [(Int, Int)] = [(0, 0), (31, 31), (0, 31), (31, 0)]
        for shape in 0..<3 {
            for orientation in stride(from: 0, to: 40, by: 3) {
                for (x, y) in corners {
                    let pixels = Self.image([0, shape, 5, orientation, x, y])
                    #expect(border.allSatisfy { pixels[$0] == 0 }, "shape \(shape), orientation \(orientation), at \(x), \(y)")
                }
            }
        }
    }

    @Test func aRenderedArchiveReadsBackWithItsFactors() throws {
        let grid = Self.smallGrid
        var progress: [Int] = []
        let writer = DSprites.renderArchive(grid: grid) { progress.append($0) }
        #expect(progress.last == 72)
        let url = NumpyArchiveTests.temporaryFile(writer.bytes)
        let images = try DSprites.read(url, grid: grid)
        #expect(images.count == 72)
        for index in [0, 17, 71] {
            let classes = DSprites.classes(ofImage: index, grid: grid)
            #expect(images.classes(ofImage: index) == classes)
            var floats = [Float](repeating: -1, count: 64 * 64)
            floats.withUnsafeMutableBufferPointer { images.copyImage(index, into: $0.baseAddress!) }
            #expect(floats == Self.image(classes, grid: grid).map(Float.init))
        }
        let labelled = images.dataset([3, 40, 70], labelFactor: 1)
        #expect(labelled.classNames == ["square", "ellipse", "heart"])
        #expect(labelled.labels == [3, 40, 70].map { DSprites.classes(ofImage: $0, grid: grid)[1] })
        // The full grid's reader refuses the small archive, naming the array.
        #expect { try DSprites.read(url) } throws: { ($0 as? NumpyArchiveError)?.localizedDescription.contains("array 'latents_classes': shape (72, 6), expected (737280, 6)") == true }
    }

    @Test func foreignArchivesAreRefusedNamingTheArray() throws {
        let grid = Self.smallGrid, total = DSprites.count(grid)
        func archive(classes: [Int64]? = nil, values: [Double]? = nil, pixel: UInt8 = 1) -> URL {
            var writer = NumpyArchiveWriter()
            var pixels = [UInt8](repeating: 0, count: total * 4096)
            pixels[4096 * 5 + 100] = pixel
            writer.add("imgs", NumpyArray(header: NumpyHeader(elementType: .uint8, shape: [total, 64, 64]), bytes: pixels))
            let rightClasses = (0..<total).flatMap { DSprites.classes(ofImage: $0, grid: grid).map(Int64.init) }
            writer.add("latents_classes", NumpyArray(int64: classes ?? rightClasses, shape: [total, 6]))
            let rightValues = (0..<total).flatMap { index in DSprites.classes(ofImage: index, grid: grid).enumerated().map { grid[$0.offset].values[$0.element] } }
            writer.add("latents_values", NumpyArray(float64: values ?? rightValues, shape: [total, 6]))
            return NumpyArchiveTests.temporaryFile(writer.bytes)
        }
        func message(_ url: URL) -> String {
            do { _ = try DSprites.read(url, grid: grid); return "read" } catch { return error.localizedDescription }
        }
        #expect(message(archive()) == "read")
        #expect(message(archive(pixel: 7)).contains("array 'imgs': pixel 100 of image 5 is 7"))
        var shuffled = (0..<total).flatMap { DSprites.classes(ofImage: $0, grid: grid).map(Int64.init) }
        shuffled.swapAt(6 * 3 + 5, 6 * 4 + 5)
        #expect(message(archive(classes: shuffled)).contains("array 'latents_classes': row 3 has class 0 for posY, the grid's order has 1"))
        var values = (0..<total).flatMap { index in DSprites.classes(ofImage: index, grid: grid).enumerated().map { grid[$0.offset].values[$0.element] } }
        values[6 * 2 + 2] = 0.7
        #expect(message(archive(values: values)).contains("array 'latents_values': row 2 has scale 0.7"))
    }
}
