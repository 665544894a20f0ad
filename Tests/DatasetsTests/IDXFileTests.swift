import CZlib
import Datasets
import Foundation
import Testing

/// IDX fixtures made by the tests in a temporary folder, raw and gzipped.
struct Fixture {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("idx-\(UUID().uuidString)")

    init() { try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }

    static func idx(magic: UInt32, dimensions: [Int], payload: [UInt8]) -> [UInt8] {
        func word(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8((value >> $0) & 0xFF) } }
        return word(magic) + dimensions.flatMap { word(UInt32($0)) } + payload
    }

    /// Three 2x2 images (pixels 0, 10, ..., 110 across them) and labels 7, 0, 9.
    static let images = idx(magic: 0x803, dimensions: [3, 2, 2], payload: (0..<12).map { UInt8($0 * 10) } )
    static let labels = idx(magic: 0x801, dimensions: [3], payload: [7, 0, 9])

    func write(_ bytes: [UInt8], _ name: String, gzip: Bool) -> URL {
        let url = folder.appendingPathComponent(name)
        if gzip {
            let handle = gzopen(url.path, "wb")!
            _ = bytes.withUnsafeBytes { gzwrite(handle, $0.baseAddress, UInt32($0.count)) }
            gzclose(handle)
        } else {
            FileManager.default.createFile(atPath: url.path, contents: Data(bytes))
        }
        return url
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }
}

@Suite struct IDXFileTests {
    @Test(arguments: [false, true])
    func idxReaderReadsImagesAndLabels(gzip: Bool) throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        let dataset = try ImageDataset.read(images: fixture.write(Fixture.images, "images", gzip: gzip),
                                            labels: fixture.write(Fixture.labels, "labels", gzip: gzip))
        #expect(dataset.count == 3 && dataset.shape == .grey(height: 2, width: 2))
        #expect(dataset.labels == [7, 0, 9])
        #expect(dataset.pixels == (0..<12).map { Float($0 * 10) / 255 })
    }

    @Test func idxReaderRejectsBadMagic() {
        let fixture = Fixture()
        defer { fixture.remove() }
        let labels = fixture.write(Fixture.labels, "labels", gzip: true)
        #expect(throws: IDXError.badMagic(file: labels.path, expected: 0x803, found: 0x801)) {
            try ImageDataset.read(images: labels, labels: labels)
        }
        let message = IDXError.badMagic(file: "x.gz", expected: 0x803, found: 0x801).localizedDescription
        #expect(message.contains("x.gz") && message.contains("0x00000803") && message.contains("0x00000801"))
    }

    @Test(arguments: [false, true])
    func idxReaderRejectsALengthThatDisagreesWithTheHeader(gzip: Bool) {
        let fixture = Fixture()
        defer { fixture.remove() }
        let short = fixture.write(Array(Fixture.images.dropLast()), "short", gzip: gzip)
        #expect(throws: IDXError.lengthMismatch(file: short.path, expectedBytes: 28, foundBytes: 27)) {
            try IDXFile.read(short, expectedMagic: IDXFile.imageMagic)
        }
        let long = fixture.write(Fixture.images + [1], "long", gzip: gzip)
        #expect(throws: IDXError.lengthMismatch(file: long.path, expectedBytes: 28, foundBytes: 29)) {
            try IDXFile.read(long, expectedMagic: IDXFile.imageMagic)
        }
    }

    @Test func aGzipBombIsNotInflatedPastWhatItsHeaderDeclares() throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        // One 2x2 image declared, then 64 MB of zeros (64 KB gzipped).
        let url = fixture.folder.appendingPathComponent("bomb.gz")
        let handle = gzopen(url.path, "wb")!
        let header = Fixture.idx(magic: 0x803, dimensions: [1, 2, 2], payload: [1, 2, 3, 4])
        _ = header.withUnsafeBytes { gzwrite(handle, $0.baseAddress, UInt32($0.count)) }
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        for _ in 0..<64 { _ = zeros.withUnsafeBytes { gzwrite(handle, $0.baseAddress, UInt32($0.count)) } }
        gzclose(handle)
        #expect(throws: IDXError.lengthMismatch(file: url.path, expectedBytes: 20, foundBytes: 21)) {
            try IDXFile.read(url, expectedMagic: IDXFile.imageMagic)
        }
        // A header declaring more than an IDX file may hold is refused before anything is inflated.
        let huge = fixture.write(Fixture.idx(magic: 0x803, dimensions: [70_000, 256, 256], payload: [0]), "huge.gz", gzip: true)
        #expect(throws: IDXError.lengthMismatch(file: huge.path, expectedBytes: 16 + 70_000 * 256 * 256, foundBytes: -1)) {
            try IDXFile.read(huge, expectedMagic: IDXFile.imageMagic)
        }
        let message = IDXError.lengthMismatch(file: huge.path, expectedBytes: 16 + 70_000 * 256 * 256, foundBytes: -1).localizedDescription
        #expect(message.contains("it was not inflated"))
        let overflowing = fixture.write(Fixture.idx(magic: 0x803, dimensions: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], payload: []), "overflow", gzip: false)
        #expect(throws: IDXError.lengthMismatch(file: overflowing.path, expectedBytes: Int.max, foundBytes: -1)) {
            try IDXFile.read(overflowing, expectedMagic: IDXFile.imageMagic)
        }
        // A folder in a file's place is named as such.
        #expect(throws: IDXError.unreadable(file: fixture.folder.path, reason: "it is a folder, not a file")) {
            try IDXFile.read(fixture.folder, expectedMagic: IDXFile.imageMagic)
        }
    }

    @Test func idxReaderRejectsAGzipStreamCutShort() throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        let whole = fixture.write(Fixture.images, "whole", gzip: true)
        let bytes = try Data(contentsOf: whole)
        let cut = fixture.write(Array(bytes.prefix(bytes.count - 10)), "cut", gzip: false)
        #expect(throws: IDXError.self) { try IDXFile.read(cut, expectedMagic: IDXFile.imageMagic) }
    }

    @Test func idxReaderRejectsImageAndLabelCountsThatDisagree() {
        let fixture = Fixture()
        defer { fixture.remove() }
        let images = fixture.write(Fixture.images, "images", gzip: false)
        let labels = fixture.write(Fixture.idx(magic: 0x801, dimensions: [2], payload: [1, 2]), "labels", gzip: false)
        #expect(throws: IDXError.countMismatch(images: images.path, imageCount: 3, labels: labels.path, labelCount: 2)) {
            try ImageDataset.read(images: images, labels: labels)
        }
    }

    @Test func idxReaderReportsAMissingFileByPath() {
        #expect(throws: IDXError.missingFile(file: "/nonexistent/train-images-idx3-ubyte.gz")) {
            try IDXFile.read(URL(fileURLWithPath: "/nonexistent/train-images-idx3-ubyte.gz"), expectedMagic: IDXFile.imageMagic)
        }
    }
}

/// The MNIST files shipped in `data/mnist`, against the published per-digit counts.
@Suite struct ShippedMNISTTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("data/mnist")

    func histogram(_ labels: [Int]) -> [Int] {
        labels.reduce(into: [Int](repeating: 0, count: 10)) { $0[$1] += 1 }
    }

    @Test func shippedMNISTHasThePublishedSplitsAndDigitCounts() throws {
        let test = try ImageDataset.read(images: Self.folder.appendingPathComponent("t10k-images-idx3-ubyte.gz"),
                                         labels: Self.folder.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        #expect(test.count == 10_000 && test.shape == .mnist)
        #expect(histogram(test.labels) == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        let train = try ImageDataset.read(images: Self.folder.appendingPathComponent("train-images-idx3-ubyte.gz"),
                                          labels: Self.folder.appendingPathComponent("train-labels-idx1-ubyte.gz"))
        #expect(train.count == 60_000)
        #expect(histogram(train.labels) == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        #expect(train.labels.prefix(5) == [5, 0, 4, 1, 9])
        #expect(train.pixels.min() == 0 && train.pixels.max() == 1)
    }
}
