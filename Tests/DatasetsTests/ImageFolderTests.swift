import CPNG
import CTurboJPEG
import Datasets
import Foundation
import Synchronization
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
        FileManager.default.createFile(atPath: url.path, contents: JPEGBytes.compress(width: width, height: height, pixels: rgb, format: TJPF_RGB, quality: 100))
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
        // Colour auto (the default) reads grey files in grey: the IDX files' values exactly.
        let loaded = try tree.load()
        #expect(loaded.report.contains("colour auto: grey"), "\(loaded.report)")
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
        // What listing finds (a name that is not a picture's) is refused before anything is decoded.
        #expect { try tree.load() } throws: { error in
            let message = (error as? ImageFolderError)?.message ?? ""
            return message.contains("notes.txt") && message.contains("does not end in .png")
        }
        let notes = tree.root.appendingPathComponent("a/notes.txt")
        let text = try Data(contentsOf: notes)
        try FileManager.default.removeItem(at: notes)
        #expect { try tree.load() } throws: { error in
            let message = (error as? ImageFolderError)?.message ?? ""
            return message.contains("broken.png") && message.contains("is not a readable image")
        }
        try text.write(to: notes)
        let skipped = try tree.load { ($0.skipUnreadable, $0.testShare) = (true, 0.34) }
        #expect(skipped.train.count + skipped.test.count == 3)
        #expect(skipped.report.contains("skipped 2 unreadable files"))
    }

    @Test(arguments: [
        ("missing", "does not exist"), ("mixed", "mixes files"), ("nested", "not further folders"), ("sizes", "different sizes"),
        ("strangers", "not among the train split's classes"), ("empty", "holds no image files"), ("file", "is a file, not a folder"),
        ("train only", "has train/ but no test/"), ("test only", "has test/ but no train/"),
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
        case "train only": tree.png("train/cats/a.png", width: 2, height: 2, channels: 1, levels: [0, 0, 0, 0])
        case "test only": tree.png("test/cats/a.png", width: 2, height: 2, channels: 1, levels: [0, 0, 0, 0])
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

    @Test func colourAutoReadsGreyFilesInGreyAndAnyColourFileMakesTheFolderColour() throws {
        let tree = ImageTree()
        tree.png("a.png", width: 2, height: 1, channels: 1, levels: [0, 200])
        // An RGB file whose pixels are grey counts as grey; a palette-grey one too.
        tree.png("b.png", width: 2, height: 1, channels: 3, levels: [10, 10, 10, 90, 90, 90])
        FileManager.default.createFile(atPath: tree.root.appendingPathComponent("c.png").path, contents: PNGBytes.file(
            width: 2, height: 1, colourType: 3, bitDepth: 8, rows: [[0, 1]], palette: [30, 30, 30, 60, 60, 60]))
        let grey = try tree.load { $0.testShare = 0.34 }
        #expect(grey.train.shape.channels == 1 && grey.report.contains("colour auto: grey, as every file is grey"), "\(grey.report)")
        let stated = try tree.load { ($0.testShare, $0.colour) = (0.34, .grey) }
        #expect(stated.train.pixels == grey.train.pixels && stated.test.pixels == grey.test.pixels)
        tree.png("d.png", width: 2, height: 1, channels: 3, levels: [255, 0, 0, 90, 90, 90])
        let colour = try tree.load { $0.testShare = 0.25 }
        #expect(colour.train.shape.channels == 3 && colour.report.contains("colour auto: colour, as 1 of 4 files have colour"), "\(colour.report)")
    }

    @Test func aFIFOSocketOrBrokenLinkNamedLikeAPictureIsRefusedAtOnceOrSkipped() throws {
        let tree = ImageTree()
        for name in ["a", "b", "c"] { tree.png("\(name).png", width: 2, height: 2, channels: 1, levels: [0, 50, 100, 150]) }
        #expect(mkfifo(tree.root.appendingPathComponent("pipe.png").path, 0o600) == 0)
        try FileManager.default.createSymbolicLink(atPath: tree.root.appendingPathComponent("gone.png").path, withDestinationPath: "/nonexistent/gone.png")
        let started = Date()
        #expect { try tree.load() } throws: { error in
            let message = (error as? ImageFolderError)?.message ?? ""
            return message.contains("gone.png") && message.contains("broken symbolic link")
        }
        try FileManager.default.removeItem(at: tree.root.appendingPathComponent("gone.png"))
        #expect { try tree.load() } throws: { error in
            let message = (error as? ImageFolderError)?.message ?? ""
            return message.contains("pipe.png") && message.contains("FIFO")
        }
        let skipped = try tree.load { ($0.skipUnreadable, $0.testShare) = (true, 0.34) }
        #expect(skipped.train.count + skipped.test.count == 3 && skipped.report.contains("skipped 1 unreadable file (first: pipe.png)"))
        #expect(Date().timeIntervalSince(started) < 10)
    }

    /// Creates a file or folder whose name is the raw bytes `name` inside `folder`.
    func makeRaw(_ name: [UInt8], in folder: URL, folder isFolder: Bool = false, contents: Data = Data()) {
        let path = Array(folder.path.utf8) + [UInt8(ascii: "/")] + name + [0]
        path.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { pointer in
                if isFolder { _ = mkdir(pointer.baseAddress!, 0o755); return }
                let descriptor = open(pointer.baseAddress!, O_WRONLY | O_CREAT, 0o644)
                contents.withUnsafeBytes { _ = write(descriptor, $0.baseAddress, $0.count) }
                close(descriptor)
            }
        }
    }

    @Test func aNameThatIsNotUTF8IsNamedEscapedAndSkippedOrRefused() throws {
        let tree = ImageTree()
        for name in ["a", "b", "c"] { tree.png("\(name).png", width: 2, height: 2, channels: 1, levels: [0, 50, 100, 150]) }
        let picture = try Data(contentsOf: tree.root.appendingPathComponent("a.png"))
        makeRaw(Array("caf".utf8) + [0xE9] + Array(".png".utf8), in: tree.root, contents: picture)  // Latin-1 "café.png"
        #expect { try tree.load() } throws: { error in
            let message = (error as? ImageFolderError)?.message ?? ""
            return message.contains("caf\\xE9.png") && message.contains("not UTF-8")
        }
        let skipped = try tree.load { ($0.skipUnreadable, $0.testShare) = (true, 0.34) }
        #expect(skipped.report.contains("skipped 1 unreadable file (first: caf\\xE9.png)"), "\(skipped.report)")
        // A class folder so named has no class name: refused, and called a folder.
        let classes = ImageTree()
        classes.png("cats/a.png", width: 2, height: 2, channels: 1, levels: [0, 0, 0, 0])
        makeRaw([0x63, 0xE4, 0x74], in: classes.root, folder: true)
        #expect { try classes.load() } throws: { error in
            let message = (error as? ImageFolderError)?.message ?? ""
            return message.contains("c\\xE4t") && message.contains("folder's name is not UTF-8")
        }
    }

    @Test func aFileReplacedWithTheSameSizeAndAnOlderTimeIsSeenAsChanged() throws {
        let tree = ImageTree()
        let a = tree.png("a.png", width: 2, height: 2, channels: 1, levels: [0, 50, 100, 150])
        tree.png("b.png", width: 2, height: 2, channels: 1, levels: [10, 60, 110, 160])
        let first = try tree.load { $0.testShare = 0.5 }
        var original = stat()
        #expect(stat(a.path, &original) == 0)
        // `cp -p` / `rsync -a` / `tar x`: another file of the same size, its mtime set to the old
        // file's to the nanosecond: only its inode and change time differ.
        let staging = ImageTree()
        let replacement = staging.png("a.png", width: 2, height: 2, channels: 1, levels: [0, 50, 100, 151])
        #expect(try FileManager.default.attributesOfItem(atPath: replacement.path)[.size] as? Int == FileManager.default.attributesOfItem(atPath: a.path)[.size] as? Int)
        var times = [original.st_atim, original.st_mtim]
        #expect(utimensat(AT_FDCWD, replacement.path, &times, 0) == 0)
        #expect(rename(replacement.path, a.path) == 0)
        let second = try tree.load { $0.testShare = 0.5 }
        #expect(second.report.contains("decoded in") && second.checksums != first.checksums, "\(second.report)")
        // Rewritten in place with its mtime put back: the change time still moves.
        let third = try tree.load { $0.testShare = 0.5 }
        #expect(third.report.contains("read from the cache"))
        var before = stat()
        #expect(stat(a.path, &before) == 0)
        Thread.sleep(forTimeInterval: 0.02)
        let edit = try Data(contentsOf: staging.png("b.png", width: 2, height: 2, channels: 1, levels: [0, 50, 100, 152]))
        #expect(edit.count == (try Data(contentsOf: a)).count)
        try edit.write(to: a)  // in place: the same inode and size
        var kept = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, a.path, &kept, 0) == 0)
        let fourth = try tree.load { $0.testShare = 0.5 }
        #expect(fourth.report.contains("decoded in") && fourth.checksums != second.checksums, "\(fourth.report)")
    }

    @Test func aSymbolicLinksTargetIsWhatTheCacheFollows() throws {
        let tree = ImageTree()
        let targets = ImageTree()
        let one = targets.png("one.png", width: 2, height: 2, channels: 1, levels: [0, 50, 100, 150])
        let two = targets.png("two.png", width: 2, height: 2, channels: 1, levels: [0, 50, 100, 250])
        tree.png("b.png", width: 2, height: 2, channels: 1, levels: [10, 60, 110, 160])
        let link = tree.root.appendingPathComponent("a.png")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: one.path)
        let first = try tree.load { $0.testShare = 0.5 }
        // The link now points at another file of the same size.
        try FileManager.default.removeItem(at: link)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: two.path)
        let second = try tree.load { $0.testShare = 0.5 }
        #expect(second.report.contains("decoded in") && second.checksums != first.checksums)
    }

    @Test func aTruncatedOrEditedCacheFileIsDetectedAndRebuilt() throws {
        let tree = ImageTree()
        tree.png("a.png", width: 2, height: 2, channels: 1, levels: [0, 50, 100, 150])
        tree.png("b.png", width: 2, height: 2, channels: 1, levels: [10, 60, 110, 160])
        let first = try tree.load { $0.testShare = 0.5 }
        let file = try #require(try FileManager.default.contentsOfDirectory(at: tree.cache, includingPropertiesForKeys: nil).first)
        let whole = try Data(contentsOf: file)
        // A pixel's value changed inside the file (still a valid safetensors file).
        var edited = whole
        edited[edited.count - 2] ^= 0x01
        try edited.write(to: file)
        let second = try tree.load { $0.testShare = 0.5 }
        #expect(second.report.contains("decoded in") && second.train.pixels == first.train.pixels, "\(second.report)")
        try whole.prefix(whole.count - 5).write(to: file)
        let third = try tree.load { $0.testShare = 0.5 }
        #expect(third.report.contains("decoded in") && third.train.pixels == first.train.pixels)
        #expect(try tree.load { $0.testShare = 0.5 }.report.contains("read from the cache"))
    }

    @Test func loadsRacingToBuildOneCacheAllSucceedAndLeaveItWhole() throws {
        let tree = ImageTree()
        for index in 0..<20 { tree.png("\(index).png", width: 8, height: 8, channels: 1, levels: (0..<64).map { UInt8(($0 * 3 + index) % 256) }) }
        let options = tree.options { $0.testShare = 0.5 }
        let cache = tree.cache
        let results = Mutex<[LoadedDataset]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            if let loaded = try? ImageFolder.load(options, cacheFolder: cache) { results.withLock { $0.append(loaded) } }
        }
        let loads = results.withLock { $0 }
        #expect(loads.count == 4 && Set(loads.map { $0.checksums["sha256"]! }).count == 1)
        let cached = try ImageFolder.load(options, cacheFolder: cache)
        #expect(cached.report.contains("read from the cache") && cached.train.pixels == loads[0].train.pixels)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }

    @Test func theDatasetsMemoryIsCheckedAfterListingBeforeAnythingIsDecoded() throws {
        let tree = ImageTree()
        for index in 0..<39 { tree.png("\(index).png", width: 1, height: 1, channels: 1, levels: [UInt8(index)]) }
        tree.file("39.png", "\u{89}PNG damaged: decoding it would fail")
        // 40 images of 3 x 64 x 64 take 1.97 MB, 5.9 MB at the peak: over a 4 MB share.
        #expect { try ImageFolder.load(tree.options { ($0.height, $0.width) = (64, 64) }, cacheFolder: tree.cache, availableBytes: 4e6) } throws: { error in
            let message = (error as? ImageFolderError)?.message ?? ""
            return message.contains("40 images of 3x64x64") && message.contains("nothing was decoded")
        }
        // The model's share counts too.
        #expect { try ImageFolder.load(tree.options { ($0.height, $0.width, $0.colour) = (8, 8, .grey) }, cacheFolder: tree.cache, availableBytes: 1e6,
                                       otherBytes: { _ in (9.9e5, "the model needs") }) } throws: { error in
            ((error as? ImageFolderError)?.message ?? "").contains("0.0 GB the model needs")
        }
        // Within the share, decoding reaches the damaged file.
        #expect { try ImageFolder.load(tree.options { ($0.height, $0.width) = (64, 64) }, cacheFolder: tree.cache, availableBytes: 1e9) } throws: { error in
            ((error as? ImageFolderError)?.message ?? "").contains("39.png")
        }
    }
}
