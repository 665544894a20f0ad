import CTurboJPEG
import CZlib
import Datasets
import Foundation
import Testing

/// PNG files built byte by byte, for the cases libpng's simplified writer cannot make: 16-bit
/// samples, palettes with transparency, grey with alpha, Adam7 interlacing.
enum PNGBytes {
    static func word(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8((value >> $0) & 0xFF) } }

    static func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + body
        let crc = typed.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
        return word(UInt32(body.count)) + typed + word(crc)
    }

    static func deflate(_ bytes: [UInt8]) -> [UInt8] {
        var size = compressBound(UInt(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = compress(&out, &size, bytes, UInt(bytes.count))
        precondition(status == Z_OK, "zlib could not compress")
        return Array(out.prefix(Int(size)))
    }

    /// A PNG of `width` x `height` whose scanlines (without filter bytes) are `rows`, each
    /// `rowBytes` long; `colourType` and `bitDepth` as in IHDR. `interlaced`: the rows are the
    /// image's, and are laid out in Adam7's seven passes (8-bit samples of `bytesPerPixel`).
    static func file(width: Int, height: Int, colourType: UInt8, bitDepth: UInt8, rows: [[UInt8]], palette: [UInt8]? = nil,
                     transparency: [UInt8]? = nil, interlaced: Bool = false, bytesPerPixel: Int = 1) -> Data {
        var raw: [UInt8] = []
        if interlaced {
            let passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
            for (x0, y0, dx, dy) in passes {
                let columns = Array(stride(from: x0, to: width, by: dx))
                guard !columns.isEmpty else { continue }
                for y in stride(from: y0, to: height, by: dy) {
                    raw.append(0)
                    for x in columns { raw += rows[y][(x * bytesPerPixel)..<((x + 1) * bytesPerPixel)] }
                }
            }
        } else {
            for row in rows { raw += [0] + row }
        }
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        bytes += chunk("IHDR", word(UInt32(width)) + word(UInt32(height)) + [bitDepth, colourType, 0, 0, interlaced ? 1 : 0])
        if let palette { bytes += chunk("PLTE", palette) }
        if let transparency { bytes += chunk("tRNS", transparency) }
        bytes += chunk("IDAT", deflate(raw)) + chunk("IEND", [])
        return Data(bytes)
    }

    /// A PNG whose header claims `width` x `height` (8-bit grey): signature, IHDR, a tiny IDAT and IEND.
    static func header(width: UInt32, height: UInt32) -> Data {
        Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", word(width) + word(height) + [8, 0, 0, 0, 0])
             + chunk("IDAT", [0x78, 0x9C, 0x03, 0, 0, 0, 0, 1]) + chunk("IEND", []))
    }
}

/// JPEG files written by libjpeg-turbo.
enum JPEGBytes {
    static func compress(width: Int, height: Int, pixels: [UInt8], format: TJPF, subsampling: TJSAMP = TJSAMP_444, quality: Int32 = 95,
                         flags: Int32 = 0) -> Data {
        let handle = tjInitCompress()!
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = pixels.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(width), 0, Int32(height), Int32(format.rawValue), &buffer, &size,
                        Int32(subsampling.rawValue), quality, flags)
        }
        precondition(status == 0, "could not compress: \(String(cString: tjGetErrorStr2(handle)))")
        defer { tjFree(buffer) }
        return Data(bytes: buffer!, count: Int(size))
    }

    /// A 64x64 picture of seeded noise in RGB (noise makes every part of the file matter).
    static func noise(side: Int = 64, seed: UInt64 = 7) -> [UInt8] {
        var state = seed
        return (0..<(side * side * 3)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }
}

func temporaryFile(_ name: String, _ data: Data) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)")
    FileManager.default.createFile(atPath: url.path, contents: data)
    return url
}

@Suite struct ImageFileTests {
    /// RGB of every pixel of a decoded image.
    func rgb(_ image: DecodedImage) -> [[UInt8]] { (0..<(image.width * image.height)).map { Array(image.rgba[(4 * $0)..<(4 * $0 + 3)]) } }

    @Test func sixteenBitSamplesKeepTheirLevelsRoundedToEightBits() throws {
        // A grey ramp: 65535 · 0.5 is level 128 (gamma-shifted readers give 186).
        let samples: [UInt16] = [0, 257, 32767, 32768, 49151, 65300, 65535]
        let row = samples.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        let image = try ImageFile.decode(PNGBytes.file(width: samples.count, height: 1, colourType: 0, bitDepth: 16, rows: [row]), path: "ramp.png")
        let expected = samples.map { UInt8((Double($0) * 255 / 65535).rounded()) }
        #expect(rgb(image).map { $0[0] } == expected, "\(rgb(image))")
        #expect(expected[3] == 128 && image.isGrey && image.sourceFormat == "PNG grey 16-bit")
        // 16-bit RGBA: each channel likewise, alpha too.
        let pixel: [UInt16] = [65535, 32768, 0, 32768]
        let rgba = try ImageFile.decode(PNGBytes.file(width: 1, height: 1, colourType: 6, bitDepth: 16,
                                                      rows: [pixel.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }]), path: "rgba.png")
        #expect(rgba.rgba == [255, 128, 0, 128] && rgba.sourceFormat == "PNG RGB with alpha 16-bit")
    }

    @Test func paletteGreyAlphaAndInterlacedFilesReadTheirLevels() throws {
        // Palette of three colours, the second half transparent, 2-bit indices.
        let palette = try ImageFile.decode(PNGBytes.file(width: 3, height: 1, colourType: 3, bitDepth: 2, rows: [[0b0001_1000]],
                                                         palette: [255, 0, 0, 0, 255, 0, 0, 0, 255], transparency: [255, 128]), path: "palette.png")
        #expect(palette.rgba == [255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 255] && palette.sourceFormat == "PNG palette with alpha")
        // Grey with alpha, 8-bit.
        let greyAlpha = try ImageFile.decode(PNGBytes.file(width: 2, height: 1, colourType: 4, bitDepth: 8, rows: [[10, 255, 200, 0]]), path: "ga.png")
        #expect(greyAlpha.rgba == [10, 10, 10, 255, 200, 200, 200, 0] && greyAlpha.isGrey)
        // Adam7: the same 9x9 RGB picture, plain and interlaced, decodes alike.
        let rows = (0..<9).map { y in (0..<27).map { UInt8((y * 27 + $0) * 7 % 256) } }
        let plain = try ImageFile.decode(PNGBytes.file(width: 9, height: 9, colourType: 2, bitDepth: 8, rows: rows), path: "plain.png")
        let interlaced = try ImageFile.decode(PNGBytes.file(width: 9, height: 9, colourType: 2, bitDepth: 8, rows: rows, interlaced: true, bytesPerPixel: 3),
                                              path: "adam7.png")
        #expect(interlaced.rgba == plain.rgba && interlaced.sourceFormat == "PNG RGB, interlaced")
        #expect(plain.rgba[4 * 10 ..< 4 * 10 + 3].elementsEqual(rows[1][3..<6]))
    }

    @Test func progressiveJPEGsDecodeLikeBaselineOnes() throws {
        var pixels: [UInt8] = []
        for index in 0..<(16 * 16) { pixels += [UInt8(index % 16 * 16), UInt8(index / 16 * 16), 128] }
        let baseline = try ImageFile.decode(JPEGBytes.compress(width: 16, height: 16, pixels: pixels, format: TJPF_RGB), path: "b.jpg")
        let progressive = try ImageFile.decode(JPEGBytes.compress(width: 16, height: 16, pixels: pixels, format: TJPF_RGB, flags: Int32(TJFLAG_PROGRESSIVE)),
                                               path: "p.jpg")
        #expect(progressive.rgba == baseline.rgba)
        #expect(zip(rgb(baseline).joined(), pixels).allSatisfy { abs(Int($0) - Int($1)) <= 8 })
    }

    @Test func cmykAndYCCKJPEGsAreDecodedToRGB() throws {
        // Inverted CMYK as Adobe stores it (255: no ink); RGB = C · K / 255.
        var cmyk: [UInt8] = []
        for index in 0..<64 { cmyk += index < 32 ? [255, 0, 0, 255] : [200, 200, 200, 128] }
        let data = JPEGBytes.compress(width: 8, height: 8, pixels: cmyk, format: TJPF_CMYK, quality: 100)
        let image = try ImageFile.decode(data, path: "cmyk.jpg")
        #expect(image.sourceFormat.hasPrefix("JPEG YCCK") || image.sourceFormat.hasPrefix("JPEG CMYK"))
        let first = rgb(image)[0], last = rgb(image)[63]
        #expect(abs(Int(first[0]) - 255) <= 3 && first[1] <= 3 && first[2] <= 3, "\(first)")
        #expect(last.allSatisfy { abs(Int($0) - 200 * 128 / 255) <= 3 }, "\(last)")
        #expect(image.rgba[3] == 255)
    }

    @Test func anAdobeCMYKJPEGDecodesToTheColoursItShows() throws {
        // Written by Pillow (8x8, quality 100): the left half red (C 0, M 255, Y 255, K 0), the
        // right half K 128; Pillow itself reads it as (255, 0, 0) and (127, 127, 127).
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/adobe-cmyk.jpg")
        let image = try ImageFile.read(from: url)
        #expect(image.sourceFormat.hasPrefix("JPEG CMYK"), "\(image.sourceFormat)")
        let left = rgb(image)[0], right = rgb(image)[63]
        #expect(left[0] >= 252 && left[1] <= 3 && left[2] <= 3, "\(left)")
        #expect(right.allSatisfy { abs(Int($0) - 127) <= 2 }, "\(right)")
    }

    @Test func aTruncatedOrDamagedFileIsRefused() throws {
        let jpeg = JPEGBytes.compress(width: 64, height: 64, pixels: JPEGBytes.noise(), format: TJPF_RGB)
        #expect(throws: ImageFileError.self) { try ImageFile.decode(jpeg.prefix(jpeg.count / 3), path: "cut.jpg") }
        do { _ = try ImageFile.decode(jpeg.prefix(jpeg.count / 3), path: "cut.jpg") } catch { #expect(error.reason.hasPrefix("JPEG:"), "\(error.reason)") }
        _ = try ImageFile.decode(jpeg, path: "whole.jpg")
        let rows = (0..<64).map { y in (0..<64).map { UInt8(truncatingIfNeeded: y * 31 + $0 * 17) } }
        let png = PNGBytes.file(width: 64, height: 64, colourType: 0, bitDepth: 8, rows: rows)
        _ = try ImageFile.decode(png, path: "whole.png")
        for cut in [png.count / 2, png.count - 13, png.count - 1] {
            #expect(throws: ImageFileError.self, "cut at \(cut)") { try ImageFile.decode(png.prefix(cut), path: "cut.png") }
        }
        var flipped = png
        flipped[flipped.count / 2] ^= 0x55  // a bad CRC in the image data
        #expect(throws: ImageFileError.self) { try ImageFile.decode(flipped, path: "flipped.png") }
    }

    @Test func aHeaderDeclaringMorePixelsThanTheFileCanHoldIsRefusedBeforeDecoding() throws {
        // A 16x16 JPEG whose frame header is patched to claim 8000x8000, about 300 bytes.
        var jpeg = JPEGBytes.compress(width: 16, height: 16, pixels: [UInt8](repeating: 90, count: 16 * 16 * 3), format: TJPF_RGB, quality: 50)
        let sof = try #require(jpeg.indices.first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 })
        jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0x1F, 0x40, 0x1F, 0x40])
        #expect(jpeg.count < 1000)
        #expect { try ImageFile.decode(jpeg, path: "bomb.jpg") } throws: { error in
            (error as? ImageFileError)?.reason.contains("declares 8000x8000 pixels") == true
        }
        #expect { try ImageFile.decode(PNGBytes.header(width: 8000, height: 8000), path: "bomb.png") } throws: { error in
            (error as? ImageFileError)?.reason.contains("declares 8000x8000 pixels") == true
        }
        #expect(throws: ImageFileError(path: "huge.png", reason: "16384x16384 pixels is not a usable size (at most \(ImageFile.maximumPixels) pixels)")) {
            try ImageFile.decode(PNGBytes.header(width: 16384, height: 16384), path: "huge.png")
        }
        #expect(throws: ImageFileError(path: "cap.png", reason: "100x100 pixels is not a usable size (at most 4096 pixels)")) {
            try ImageFile.decode(PNGBytes.header(width: 100, height: 100), path: "cap.png", maximumPixels: 4096)
        }
    }

    @Test func aFIFOOrAFolderNamedLikeAPictureIsRefusedAtOnce() throws {
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-pipe.png")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        defer { try? FileManager.default.removeItem(at: fifo) }
        let started = Date()
        #expect(throws: ImageFileError(path: fifo.path, reason: "it is a FIFO (named pipe), not a regular file")) { try ImageFile.read(from: fifo) }
        #expect(Date().timeIntervalSince(started) < 5)
        let folder = FileManager.default.temporaryDirectory
        #expect(throws: ImageFileError(path: folder.path, reason: "it is a folder, not a file")) { try ImageFile.read(from: folder) }
    }

    @Test func somethingThatIsNotAPictureIsRefusedNamingTheFile() throws {
        let url = temporaryFile("text.png", Data("not a picture".utf8))
        defer { try? FileManager.default.removeItem(at: url) }
        #expect { try ImageFile.read(from: url) } throws: { error in
            (error as? ImageFileError).map { $0.localizedDescription.contains(url.path) && $0.reason.contains("neither a PNG nor a JPEG") } ?? false
        }
        #expect(throws: ImageFileError(path: "/nonexistent/digit.png", reason: "no such file or folder")) {
            try ImageFile.read(from: URL(fileURLWithPath: "/nonexistent/digit.png"))
        }
    }
}
