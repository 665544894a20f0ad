import CPNG
import CTurboJPEG
import Datasets
import Foundation
import Testing

/// A temporary folder of image files written by the tests.
final class ImageTree {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("folder-\(UUID().uuidString)")
    let cache = FileManager.default.temporaryDirectory.appendingPathComponent("folder-cache-\(UUID().uuidString)")

    init() { try! FileManager.default.createDirectory(at: root, withIntermediateDirectories: true) }
    deinit {
        try? FileManager.default.removeItem(at: root)
        try? FileManager.default.removeItem(at: cache)
    }

    /// Writes `values` (width x height, `channels` 1 or 3 interleaved, levels 0...255) as a PNG at `path`.
    @discardableResult
    func png(_ path: String, width: Int, height: Int, channels: Int, levels: [UInt8]) -> URL {
        let url = root.appendingPathComponent(path)
        try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        (image.width, image.height) = (UInt32(width), UInt32(height))
        image.format = channels == 3 ? UInt32(PNG_FORMAT_FLAG_COLOR) : UInt32(PNG_FORMAT_GRAY)
        let ok = levels.withUnsafeBytes { png_image_write_to_file(&image, url.path, 0, $0.baseAddress, Int32(width * channels), nil) }
        precondition(ok != 0, "could not write \(url.path)")
        return url
    }

    /// Writes an RGB picture as a JPEG (quality 100, 4:4:4) through libjpeg-turbo.
    @discardableResult
    func jpeg(_ path: String, width: Int, height: Int, rgb: [UInt8]) -> URL {
        let url = root.appendingPathComponent(path)
        try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let handle = tjInitCompress()!
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = rgb.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(width), 0, Int32(height), Int32(TJPF_RGB.rawValue), &buffer, &size,
                        Int32(TJSAMP_444.rawValue), 100, 0)
        }
        precondition(status == 0, "could not compress")
        FileManager.default.createFile(atPath: url.path, contents: Data(bytes: buffer!, count: Int(size)))
        tjFree(buffer)
        return url
    }

    func file(_ path: String, _ text: String) {
        let url = root.appendingPathComponent(path)
        try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8))
    }

    func options(_ change: (inout ImageFolderOptions) -> Void = { _ in }) -> ImageFolderOptions {
        var options = ImageFolderOptions(path: root.path)
        change(&options)
        return options
    }

    func load(_ change: (inout ImageFolderOptions) -> Void = { _ in }) throws(ImageFolderError) -> LoadedDataset {
        try ImageFolder.load(options(change), cacheFolder: cache)
    }
}

@Suite struct ImageFolderTests {
    /// The shipped MNIST (a prefix of each split) exported as PNG files in train/ and test/ class
    /// subfolders reads back to exactly the IDX pixels and labels.
    @Test func mnistExportedToPNGFoldersLoadsToTheSamePixelsAndLabels() throws {
        let catalog = DatasetCatalog(dataDirectory: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../data/mnist").standardizedFileURL)
        let tree = ImageTree()
        var expected: [String: [(label: Int, pixels: ArraySlice<Float>)]] = [:]
        for split in DatasetSplit.allCases {
            let idx = try catalog.load(.mnist, split: split).prefix(300)
            for index in 0..<idx.count {
                let levels = idx.image(index).map { UInt8(($0 * 255).rounded()) }
                tree.png("\(split.rawValue)/\(idx.labels[index])/\(String(format: "%05d", index)).png", width: 28, height: 28, channels: 1, levels: levels)
            }
            // The folder lists class by class, files by name: the IDX images in that order.
            let order = (0..<idx.count).sorted { (idx.labels[$0], $0) < (idx.labels[$1], $1) }
            expected[split.rawValue] = order.map { (label: idx.labels[$0], pixels: idx.image($0)) }
        }
        let loaded = try tree.load { $0.colour = .grey }
        #expect(loaded.train.shape == .mnist && loaded.train.count == 300 && loaded.test.count == 300)
        #expect(loaded.train.classNames == (0...9).map(String.init))
        for (split, dataset) in [("train", loaded.train), ("test", loaded.test)] {
            let reference = expected[split]!
            #expect(dataset.labels == reference.map(\.label))
            #expect(dataset.pixels == reference.flatMap(\.pixels), "\(split) pixels differ")
        }
    }

    @Test func aColourFolderKeepsItsChannelsPlanarWithLabelsFromSortedSubfolders() throws {
        let tree = ImageTree()
        // 2x2 pictures: one pure red, one with a green top row and a blue bottom row.
        tree.png("reds/a.png", width: 2, height: 2, channels: 3, levels: [255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0])
        tree.png("mixed/b.png", width: 2, height: 2, channels: 3, levels: [0, 255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255])
        tree.png("mixed/c.png", width: 2, height: 2, channels: 3, levels: [0, 255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255])
        let loaded = try tree.load { $0.testShare = 0.34 }
        let all = loaded.train.count + loaded.test.count
        #expect(all == 3 && loaded.train.shape == ImageShape(channels: 3, height: 2, width: 2))
        #expect(loaded.train.classNames == ["mixed", "reds"])
        let red = try #require([loaded.train, loaded.test].flatMap { set in (0..<set.count).filter { set.labels[$0] == 1 }.map { set.image($0) } }.first)
        #expect(Array(red) == [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        let mixed = try #require([loaded.train, loaded.test].flatMap { set in (0..<set.count).filter { set.labels[$0] == 0 }.map { set.image($0) } }.first)
        #expect(Array(mixed) == [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1])
    }

    @Test func resizingAveragesAreasAndTheCentreCropKeepsTheMiddle() throws {
        let tree = ImageTree()
        // 4x2 grey: columns 0, 100, 200, 255 in both rows.
        tree.png("x.png", width: 4, height: 2, channels: 1, levels: [0, 100, 200, 255, 0, 100, 200, 255])
        tree.png("y.png", width: 4, height: 2, channels: 1, levels: [0, 100, 200, 255, 0, 100, 200, 255])
        let halved = try tree.load { ($0.height, $0.width, $0.colour, $0.testShare) = (1, 2, .grey, 0.5) }
        #expect(halved.train.shape == .grey(height: 1, width: 2))
        let expected: [Float] = [50 / 255, 227.5 / 255]
        #expect(zip(Array(halved.train.image(0)), expected).allSatisfy { abs($0 - $1) < 1e-6 })
        let cropped = try tree.load { ($0.height, $0.width, $0.centreCrop, $0.colour, $0.testShare) = (1, 1, true, .grey, 0.5) }
        #expect(abs(cropped.train.image(0).first! - 150 / 255) < 1e-6)  // the middle 2x2: columns 100 and 200
    }

    @Test func jpegFilesDecodeThroughLibjpegTurbo() throws {
        let tree = ImageTree()
        var rgb: [UInt8] = []
        for i in 0..<64 { rgb += [UInt8(i * 4), UInt8(255 - i * 4), 128] }
        tree.jpeg("a/x.jpg", width: 8, height: 8, rgb: rgb)
        tree.jpeg("a/y.jpeg", width: 8, height: 8, rgb: rgb)
        let loaded = try tree.load { $0.testShare = 0.5 }
        #expect(loaded.train.shape == ImageShape(channels: 3, height: 8, width: 8))
        let red: [Float] = Array(loaded.train.image(0).prefix(64))
        var maximum: Float = 0
        for i in 0..<64 { maximum = max(maximum, abs(red[i] - Float(i * 4) / 255)) }
        #expect(maximum < 0.03, "JPEG at quality 100 differs by \(maximum)")
    }

    @Test func aSecondLoadOfUnchangedFilesComesFromTheCacheAndAChangedFileInvalidatesIt() throws {
        let tree = ImageTree()
        tree.png("a/1.png", width: 2, height: 2, channels: 1, levels: [0, 50, 100, 150])
        tree.png("a/2.png", width: 2, height: 2, channels: 1, levels: [10, 60, 110, 160])
        let first = try tree.load { $0.testShare = 0.5 }
        #expect(first.report.contains("decoded in"))
        let second = try tree.load { $0.testShare = 0.5 }
        #expect(second.report.contains("read from the cache"))
        #expect(second.train.pixels == first.train.pixels && second.checksums == first.checksums)
        Thread.sleep(forTimeInterval: 0.02)
        tree.png("a/2.png", width: 2, height: 2, channels: 1, levels: [255, 255, 255, 255])
        let third = try tree.load { $0.testShare = 0.5 }
        #expect(third.report.contains("decoded in"))
        #expect(third.checksums != first.checksums)
    }

    @Test func theRecordedHashCoversEveryFilesPathAndContent() throws {
        let tree = ImageTree()
        let one = tree.png("a/1.png", width: 2, height: 2, channels: 1, levels: [0, 50, 100, 150])
        let two = tree.png("b/2.png", width: 2, height: 2, channels: 1, levels: [10, 60, 110, 160])
        let loaded = try tree.load { $0.testShare = 0.5 }
        let text = "a/1.png\t\(try SHA256.hex(ofFile: one))\nb/2.png\t\(try SHA256.hex(ofFile: two))\n"
        #expect(loaded.checksums == ["files": "2", "sha256": SHA256.hex(Array(text.utf8))])
        #expect(SHA256.hexDigits([0x00, 0x0f, 0xa5, 0xff]) == "000fa5ff")
    }

    @Test func anUnreadableFileStopsTheLoadNamingItUnlessSkipped() throws {
        let tree = ImageTree()
        tree.png("a/1.png", width: 2, height: 2, channels: 1, levels: [0, 50, 100, 150])
        tree.png("a/2.png", width: 2, height: 2, channels: 1, levels: [0, 50, 100, 150])
        tree.png("a/3.png", width: 2, height: 2, channels: 1, levels: [0, 50, 100, 150])
        tree.file("a/notes.txt", "not a picture")
        tree.file("a/broken.png", "\u{89}PNG but not really")
        tree.file("a/.hidden", "ignored")
        do {
            _ = try tree.load()
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("broken.png") && error.message.contains("is not a readable image"))
        }
        let skipped = try tree.load { ($0.skipUnreadable, $0.testShare) = (true, 0.34) }
        #expect(skipped.train.count + skipped.test.count == 3)
        #expect(skipped.report.contains("skipped 2 unreadable files"))
    }

    @Test(arguments: [
        ("missing", "does not exist"), ("mixed", "mixes files"), ("nested", "not further folders"), ("sizes", "different sizes"),
        ("strangers", "not among the train split's classes"), ("empty", "holds no image files"), ("file", "is a file, not a folder"),
    ])
    func aBadFolderIsNamedWithTheReason(layout: String, message: String) throws {
        let tree = ImageTree()
        var path = tree.root.path
        switch layout {
        case "missing": path = tree.root.appendingPathComponent("nothing-here").path
        case "mixed":
            tree.png("loose.png", width: 2, height: 2, channels: 1, levels: [0, 0, 0, 0])
            tree.png("cats/a.png", width: 2, height: 2, channels: 1, levels: [0, 0, 0, 0])
        case "nested": tree.png("cats/deeper/a.png", width: 2, height: 2, channels: 1, levels: [0, 0, 0, 0])
        case "sizes":
            tree.png("a.png", width: 2, height: 2, channels: 1, levels: [0, 0, 0, 0])
            tree.png("b.png", width: 3, height: 2, channels: 1, levels: [0, 0, 0, 0, 0, 0])
        case "strangers":
            tree.png("train/cats/a.png", width: 2, height: 2, channels: 1, levels: [0, 0, 0, 0])
            tree.png("test/dogs/a.png", width: 2, height: 2, channels: 1, levels: [0, 0, 0, 0])
        case "file": path = tree.png("a.png", width: 2, height: 2, channels: 1, levels: [0, 0, 0, 0]).path
        default: break
        }
        do {
            _ = try ImageFolder.load(ImageFolderOptions(path: path), cacheFolder: tree.cache)
            Issue.record("expected an error for \(layout)")
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test func badOptionsAreNamed() {
        let tree = ImageTree()
        #expect(throws: ImageFolderError.self) { try tree.load { $0.height = 8 } }
        #expect(throws: ImageFolderError.self) { try tree.load { $0.testShare = 1 } }
        #expect(tree.options { ($0.height, $0.width) = (0, 9) }.problems.first?.contains("1...4096") == true)
    }
}
