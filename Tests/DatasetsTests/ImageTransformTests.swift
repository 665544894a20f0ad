import CPNG
import CZlib
import Datasets
import Foundation
import Testing

/// Writes an 8-bit PNG through libpng: `channels` 1 (grey), 3 (RGB) or 4 (RGBA).
func writeTestPNG(width: Int, height: Int, channels: Int, bytes: [UInt8]) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString).png")
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    image.width = UInt32(width)
    image.height = UInt32(height)
    image.format = [1: UInt32(PNG_FORMAT_GRAY), 3: UInt32(PNG_FORMAT_RGB), 4: UInt32(PNG_FORMAT_RGB) | UInt32(PNG_FORMAT_FLAG_ALPHA)][channels]!
    let ok = bytes.withUnsafeBytes { png_image_write_to_file(&image, url.path, 0, $0.baseAddress, Int32(width * channels), nil) }
    precondition(ok != 0, "could not write the test PNG")
    return url
}

/// Centre of mass of a side x side image (pixel centres at i + 0.5).
func centreOfMass(_ pixels: [Float], side: Int) -> (x: Double, y: Double) {
    var (mass, x, y) = (0.0, 0.0, 0.0)
    for row in 0..<side {
        for column in 0..<side {
            let value = Double(pixels[row * side + column])
            (mass, x, y) = (mass + value, x + value * (Double(column) + 0.5), y + value * (Double(row) + 0.5))
        }
    }
    return (x / mass, y / mass)
}

/// The MNIST framing every imported picture of a digit model gets.
let digitFraming = ImageTransform(height: 28, width: 28, colour: .grey, digitBox: 20)

/// A decoded picture's 8-bit grey levels at its own size (the transform in grey, rounded).
func greyLevels(_ image: DecodedImage) -> [UInt8] {
    ImageTransform(colour: .grey).apply(image).values.map { UInt8(($0 * 255).rounded()) }
}

@Suite struct ImageTransformTests {
    @Test func aDecodedPictureTurnsGreyByLuminanceOnWhite() throws {
        // Opaque red, green, blue, grey; half-transparent orange; fully transparent black.
        let bytes: [UInt8] = [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 90, 90, 90, 255, 200, 100, 50, 128, 0, 0, 0, 0]
        let url = writeTestPNG(width: 6, height: 1, channels: 4, bytes: bytes)
        defer { try? FileManager.default.removeItem(at: url) }
        let grey = greyLevels(try ImageFile.read(from: url))
        // Composited on white, then 0.299 R + 0.587 G + 0.114 B, rounded (by hand).
        let alpha = 128.0 / 255, orange = [200.0, 100, 50].map { $0 * alpha + 255 * (1 - alpha) }
        let expected = [76, 150, 29, 90, Int((0.299 * orange[0] + 0.587 * orange[1] + 0.114 * orange[2]).rounded()), 255]
        #expect(grey.count == 6)
        #expect(zip(grey, expected).allSatisfy { abs(Int($0) - $1) <= 1 }, "\(grey) vs \(expected)")
    }

    @Test func aLargeDarkOnLightColourPictureBecomesA28x28LightOnDarkCentredDigit() throws {
        // 90x60 RGB, white paper, a dark-blue 10x40 stroke off to the upper left.
        let (width, height) = (90, 60)
        var bytes = [UInt8](repeating: 255, count: width * height * 3)
        for y in 5..<45 {
            for x in 10..<20 { bytes.replaceSubrange(((y * width + x) * 3)..<((y * width + x) * 3 + 3), with: [10, 10, 60]) }
        }
        let url = writeTestPNG(width: width, height: height, channels: 3, bytes: bytes)
        defer { try? FileManager.default.removeItem(at: url) }
        let picture = try ImageFile.read(from: url)
        #expect(picture.width == 90 && picture.height == 60 && picture.sourceFormat == "PNG RGB")
        let imported = digitFraming.apply(picture)
        #expect(imported.values.count == 28 * 28 && imported.shape == .mnist)
        #expect(imported.description.contains("90x60 PNG RGB -> grey") && imported.description.contains("inverted"))
        #expect(imported.description.contains("ink 10x40 scaled to 5x20"))
        // Light ink on a black ground, centred by mass, inside the 20-pixel box.
        let (x, y) = centreOfMass(imported.values, side: 28)
        #expect(abs(x - 14) <= 0.5 && abs(y - 14) <= 0.5)
        #expect(imported.values.max()! > 0.8)
        let lit = imported.values.indices.filter { imported.values[$0] > 0.05 }
        #expect(Set(lit.map { $0 / 28 }).count == 20 && Set(lit.map { $0 % 28 }).count == 5)
        #expect((0..<28).allSatisfy { imported.values[$0] == 0 && imported.values[27 * 28 + $0] == 0 })
    }

    @Test func transparencyIsCompositedOnWhiteBeforeTheConversion() throws {
        // RGBA: transparent background, opaque black 4x4 square in the middle of 16x16.
        var bytes = [UInt8](repeating: 0, count: 16 * 16 * 4)
        for y in 6..<10 { for x in 6..<10 { bytes[(y * 16 + x) * 4 + 3] = 255 } }
        let url = writeTestPNG(width: 16, height: 16, channels: 4, bytes: bytes)
        defer { try? FileManager.default.removeItem(at: url) }
        let picture = try ImageFile.read(from: url)
        #expect(picture.sourceFormat == "PNG RGB with alpha")
        let grey = greyLevels(picture)
        #expect(grey[0] == 255 && grey[7 * 16 + 7] == 0)
        let imported = digitFraming.apply(picture)
        #expect(imported.description.contains("inverted"))
        #expect(imported.values[14 * 28 + 14] > 0.99 && imported.values[0] == 0)
    }

    @Test func a28x28PictureInTheDatasetsPolarityIsKeptAsItIs() throws {
        let bytes = (0..<(28 * 28)).map { index -> UInt8 in
            let (x, y) = (index % 28, index / 28)
            return (8..<20).contains(x) && (10..<14).contains(y) ? UInt8(200 + x) : 0
        }
        let url = writeTestPNG(width: 28, height: 28, channels: 1, bytes: bytes)
        defer { try? FileManager.default.removeItem(at: url) }
        let imported = digitFraming.apply(try ImageFile.read(from: url))
        #expect(imported.values == bytes.map { Float($0) / 255 })
        #expect(imported.description.contains("kept as it is") && !imported.description.contains("inverted"))
    }
}
