import Datasets
import Foundation
import Testing

/// The archives NumPy itself wrote (reference/npz_fixtures.py), and damaged copies of them.
@Suite struct NumpyArchiveTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func temporaryFile(_ bytes: [UInt8], _ name: String = "archive.npz") -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("npz-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent(name)
        FileManager.default.createFile(atPath: url.path, contents: Data(bytes))
        return url
    }

    @Test(arguments: ["numpy-savez", "numpy-savez-compressed", "numpy-savez-zip64"])
    func readerReadsWhatNumpyWrote(file: String) throws {
        let archive = try NumpyArchive(url: Self.fixtures.appendingPathComponent(file + ".npz"))
        #expect(archive.arrayNames == ["small", "values", "counts"])
        let small = try archive.array("small", of: [.uint8], shape: [2, 3, nil])
        #expect(small.header.shape == [2, 3, 4])
        #expect(small.bytes == (0..<24).map(UInt8.init))
        let values = try archive.array("values")
        #expect(values.header.elementType == .float64)
        #expect(values.doubles == [-1, -0.5, 0, 0.5, 1])
        let counts = try archive.array("counts")
        #expect(counts.header.elementType == .int64 && counts.header.shape == [2, 2])
        #expect(counts.doubles == [1, -2, 3, Double(1 << 40)])
        #expect(try archive.header(of: "counts").shape == [2, 2])
    }

    @Test func writtenArchivesReadBackAndMatchNumpysHeaders() throws {
        var writer = NumpyArchiveWriter()
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 >> 3) }
        writer.add("big", header: NumpyHeader(elementType: .uint8, shape: [300, 1000])) { emit in
            // In uneven pieces, as a renderer hands them over.
            big.withUnsafeBytes { raw in
                emit(UnsafeRawBufferPointer(rebasing: raw[0..<12_345]))
                emit(UnsafeRawBufferPointer(rebasing: raw[12_345...]))
            }
        }
        writer.add("values", NumpyArray(float64: [-1, -0.5, 0, 0.5, 1], shape: [5]))
        let url = Self.temporaryFile(writer.bytes)
        let archive = try NumpyArchive(url: url)
        #expect(try archive.array("big").bytes == big)
        #expect(try archive.array("values").doubles == [-1, -0.5, 0, 0.5, 1])
        // The header NumPy writes for the same array, byte for byte (from numpy-savez.npz).
        let numpy = try NumpyArchive(url: Self.fixtures.appendingPathComponent("numpy-savez.npz"))
        let header = try numpy.header(of: "small")
        #expect(header.encoded.count == header.headerBytes)
        let stored = try Data(contentsOf: Self.fixtures.appendingPathComponent("numpy-savez.npz"))
        #expect(stored.range(of: Data(header.encoded)) != nil)
    }

    @Test func damagedArchivesAreRefusedNamingTheArrayAndTheProblem() throws {
        let compressed = [UInt8](try Data(contentsOf: Self.fixtures.appendingPathComponent("numpy-savez-compressed.npz")))
        let stored = [UInt8](try Data(contentsOf: Self.fixtures.appendingPathComponent("numpy-savez.npz")))
        func message(_ bytes: [UInt8], array: String = "small") -> String {
            do {
                _ = try NumpyArchive(url: Self.temporaryFile(bytes)).array(array)
                return "read"
            } catch { return error.localizedDescription }
        }
        #expect(message(Array(compressed.prefix(200))).contains("not a zip archive") || message(Array(compressed.prefix(200))).contains("truncated"))
        #expect(message(Array("not a zip file at all".utf8)).contains("not a zip archive"))
        #expect(message(compressed, array: "imgs").contains("no array 'imgs' in the archive (it holds small, values, counts)"))
        // A flipped byte inside the first entry's stored data: its CRC no longer matches.
        var flipped = stored
        let magic = Data(stored).range(of: Data([0x93] + Array("NUMPY".utf8)))!.lowerBound
        flipped[magic + 128 + 5] ^= 0xFF
        let crc = message(flipped)
        #expect(crc.contains("array 'small'") && crc.contains("CRC-32"), "\(crc)")
        // Deflated data damaged.
        var damaged = compressed
        for offset in 40..<60 { damaged[offset] = 0xFF }
        #expect(message(damaged).contains("array 'small'"))
        // A header that claims another shape than the data holds.
        var reshaped = stored
        if let range = Data(reshaped).range(of: Data("(2, 3, 4)".utf8)) {
            reshaped.replaceSubrange(range, with: Array("(2, 3, 5)".utf8))
        }
        #expect(message(reshaped).contains("its header declares 30 bytes of |u1 in shape (2, 3, 5), its zip record holds 24"), "\(message(reshaped))")
        // A Fortran-order or foreign element type.
        var fortran = stored
        if let range = Data(fortran).range(of: Data("'fortran_order': False".utf8)) {
            fortran.replaceSubrange(range, with: Array("'fortran_order': True ".utf8))
        }
        #expect(message(fortran).contains("Fortran order"))
        var object = stored
        if let range = Data(object).range(of: Data("'descr': '|u1'".utf8)) {
            object.replaceSubrange(range, with: Array("'descr': '|O1'".utf8))
        }
        #expect(message(object).contains("element type '|O1'"))
        let noFile = FileManager.default.temporaryDirectory.appendingPathComponent("none-\(UUID().uuidString).npz")
        #expect(throws: NumpyArchiveError.archive(file: noFile.path, reason: "no such file")) { try NumpyArchive(url: noFile) }
    }

    @Test func arraysOfAnotherTypeOrShapeThanExpectedAreRefused() throws {
        let archive = try NumpyArchive(url: Self.fixtures.appendingPathComponent("numpy-savez.npz"))
        #expect { try archive.array("values", of: [.uint8]) } throws: { ($0 as? NumpyArchiveError)?.localizedDescription.contains("element type <f8, expected |u1") == true }
        #expect { try archive.array("small", shape: [2, 4, 3]) } throws: { ($0 as? NumpyArchiveError)?.localizedDescription.contains("shape (2, 3, 4), expected (2, 4, 3)") == true }
    }
}
