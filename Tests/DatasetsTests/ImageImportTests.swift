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

@Suite struct ImageImportTests {
    @Test func aDecodedPictureTurnsGreyByLuminanceOnWhite() throws {
        // Opaque red, green, blue, grey; half-transparent orange; fully transparent black.
        let bytes: [UInt8] = [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 90, 90, 90, 255, 200, 100, 50, 128, 0, 0, 0, 0]
        let url = writeTestPNG(width: 6, height: 1, channels: 4, bytes: bytes)
        defer { try? FileManager.default.removeItem(at: url) }
        let grey = PNGPicture(grey: try ImageFile.read(from: url))
        // Composited on white, then 0.299 R + 0.587 G + 0.114 B, rounded (by hand).
        let alpha = 128.0 / 255, orange = [200.0, 100, 50].map { $0 * alpha + 255 * (1 - alpha) }
        let expected = [76, 150, 29, 90, Int((0.299 * orange[0] + 0.587 * orange[1] + 0.114 * orange[2]).rounded()), 255]
        #expect(grey.width == 6 && grey.height == 1)
        #expect(zip(grey.grey, expected).allSatisfy { abs(Int($0) - $1) <= 1 }, "\(grey.grey) vs \(expected)")
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
        let picture = try PNGFile.read(from: url)
        #expect(picture.width == 90 && picture.height == 60 && picture.sourceFormat == "RGB")
        let imported = ImageImport.convert(picture)
        #expect(imported.pixels.count == 28 * 28)
        #expect(imported.conversion.contains("90x60 RGB") && imported.conversion.contains("inverted"))
        #expect(imported.conversion.contains("ink 10x40 scaled to 5x20"))
        // Light ink on a black ground, centred by mass, inside the 20-pixel box.
        let (x, y) = centreOfMass(imported.pixels, side: 28)
        #expect(abs(x - 14) <= 0.5 && abs(y - 14) <= 0.5)
        #expect(imported.pixels.max()! > 0.8)
        let lit = imported.pixels.indices.filter { imported.pixels[$0] > 0.05 }
        #expect(Set(lit.map { $0 / 28 }).count == 20 && Set(lit.map { $0 % 28 }).count == 5)
        #expect((0..<28).allSatisfy { imported.pixels[$0] == 0 && imported.pixels[27 * 28 + $0] == 0 })
    }

    @Test func transparencyIsCompositedOnWhiteBeforeTheConversion() throws {
        // RGBA: transparent background, opaque black 4x4 square in the middle of 16x16.
        var bytes = [UInt8](repeating: 0, count: 16 * 16 * 4)
        for y in 6..<10 { for x in 6..<10 { bytes[(y * 16 + x) * 4 + 3] = 255 } }
        let url = writeTestPNG(width: 16, height: 16, channels: 4, bytes: bytes)
        defer { try? FileManager.default.removeItem(at: url) }
        let picture = try PNGFile.read(from: url)
        #expect(picture.sourceFormat == "RGB with alpha")
        #expect(picture.grey[0] == 255 && picture.grey[7 * 16 + 7] == 0)
        let imported = ImageImport.convert(picture)
        #expect(imported.conversion.contains("transparency on white") && imported.conversion.contains("inverted"))
        #expect(imported.pixels[14 * 28 + 14] > 0.99 && imported.pixels[0] == 0)
    }

    @Test func a28x28PictureInTheDatasetsPolarityIsKeptAsItIs() throws {
        let bytes = (0..<(28 * 28)).map { index -> UInt8 in
            let (x, y) = (index % 28, index / 28)
            return (8..<20).contains(x) && (10..<14).contains(y) ? UInt8(200 + x) : 0
        }
        let url = writeTestPNG(width: 28, height: 28, channels: 1, bytes: bytes)
        defer { try? FileManager.default.removeItem(at: url) }
        let imported = ImageImport.convert(try PNGFile.read(from: url))
        #expect(imported.pixels == bytes.map { Float($0) / 255 })
        #expect(imported.conversion.contains("kept as it is") && !imported.conversion.contains("inverted"))
    }

    @Test func somethingThatIsNotAPNGIsRejectedNamingTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("text-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("not a picture".utf8).write(to: url)
        #expect(throws: PNGError.self) { try PNGFile.read(from: url) }
        do { _ = try PNGFile.read(from: url) } catch { #expect(error.localizedDescription.contains(url.path)) }
        let missing = URL(fileURLWithPath: "/nonexistent/digit.png")
        do { _ = try PNGFile.read(from: missing) } catch { #expect(error.localizedDescription.contains("/nonexistent/digit.png") && error.reason == "no such file or folder") }
    }

    /// A PNG whose header claims `width` x `height`: signature, IHDR, a tiny IDAT and IEND.
    static func pngHeader(width: UInt32, height: UInt32) -> Data {
        func word(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8((value >> $0) & 0xFF) } }
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            let crc = typed.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
            return word(UInt32(body.count)) + typed + word(crc)
        }
        let header = chunk("IHDR", word(width) + word(height) + [8, 0, 0, 0, 0])
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + header + chunk("IDAT", [0x78, 0x9C, 0x03, 0, 0, 0, 0, 1]) + chunk("IEND", []))
    }

    @Test func aPictureOfTooManyPixelsIsRefusedBeforeItIsDecoded() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("huge-\(UUID().uuidString).png")
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.pngHeader(width: 16384, height: 16384).write(to: url)
        #expect(throws: PNGError(path: url.path, reason: "16384x16384 pixels is not a usable size (at most \(ImageFile.maximumPixels) pixels)")) {
            try PNGFile.read(from: url)
        }
        #expect(throws: ImageFileError(path: url.path, reason: "16384x16384 pixels is not a usable size (at most \(ImageFile.maximumPixels) pixels)")) {
            try ImageFile.read(from: url)
        }
    }

    @Test func aFolderGivenAsAPictureIsNamedAsAFolder() throws {
        let folder = FileManager.default.temporaryDirectory
        #expect(throws: PNGError(path: folder.path, reason: "it is a folder, not a file")) { try PNGFile.read(from: folder) }
        #expect(throws: ImageFileError(path: folder.path, reason: "it is a folder, not a file")) { try ImageFile.read(from: folder) }
    }
}
