import ArgumentParser
import Datasets
import Foundation
import Persistence
import Visualization

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "List the datasets the tool knows and where it finds their files, describe an image folder, download or export a dataset.",
        discussion: """
        With --download NAME the four gzipped IDX files are fetched from the standard mirrors (or --mirror) into \
        <data-dir>/<NAME> (default ./data/<NAME>) and kept only when their SHA-256 matches the published one. \
        With --images FOLDER (and the transforms of `vae train`) the folder is read as training would read it and \
        described: images, shape, classes and their counts, splits, decoding speed. With --export NAME --to FOLDER \
        a named dataset is written as PNG files in train/ and test/ class subfolders, a folder `vae train --images` reads. \
        With --make dsprites the 737,280 images of dSprites' factor grid are drawn procedurally into \
        <data-dir>/dsprites/dsprites-rendered.npz (default ./data/dsprites), in the original file's form (imgs, \
        latents_classes, latents_values), and read back as a check.
        """)

    @OptionGroup(title: "Data") var data: DataOptions

    @Option(help: "Download this dataset.") var download: DatasetName?

    @Option(help: "A mirror to download from instead of the standard ones (a URL ending in /).")
    var mirror: String?

    @Option(help: ArgumentHelp("Export this dataset as PNG files (with --to): mnist, fashion-mnist, or dsprites (its factors in factors.csv).", valueName: "dataset"))
    var export: ExportedDataset?
    @Option(help: ArgumentHelp("Draw a dataset procedurally: dsprites.", valueName: "dataset")) var make: MadeDataset?
    @Option(help: "The folder to export into (it must not exist yet).") var to: String?

    func validate() throws {
        if download == .dsprites {
            throw ValidationError("dsprites is not downloaded: `vae data --make dsprites` draws it, or put the original \(DSprites.originalFileName) in data/dsprites")
        }
        if (export == nil) != (to == nil) { throw ValidationError("--export NAME and --to FOLDER go together") }
        if make != nil, export != nil || download != nil || data.images != nil {
            throw ValidationError("--make draws a dataset; it does not go with --export, --download or --images")
        }
        try data.refuseFolderOptionsWithoutAFolder()
    }

    func run() throws {
        if make != nil { return try makeDSprites() }
        if let export, let to {
            return export == .dsprites ? try exportDSprites(to: URL(fileURLWithPath: to)) : try exportDataset(export, to: URL(fileURLWithPath: to))
        }
        if let folder = data.folder(seed: 1) {
            let loaded: LoadedDataset
            do { loaded = try ImageFolder.load(folder) } catch { throw CommandFailure(error.localizedDescription) }
            print(loaded.report)
            for (name, split) in [("train", loaded.train), ("test", loaded.test)] where split.isLabelled {
                var counts = [Int](repeating: 0, count: split.classCount)
                for label in split.labels { counts[label] += 1 }
                print("\(name): " + zip(split.classNames, counts).map { "\($0) \($1)" }.joined(separator: ", "))
            }
            print("SHA-256 over the files: \(loaded.checksums["sha256"] ?? "")")
            return
        }
        if let name = download {
            let mirrors = try mirror.map { text -> [URL] in
                guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
                    throw ValidationError("--mirror must be an http(s) URL, got '\(text)'")
                }
                return [url]
            }
            let folder = URL(fileURLWithPath: data.dataDir ?? "data").appendingPathComponent(name.rawValue)
            do {
                try DatasetDownload(name: name, mirrors: mirrors).run(into: folder) { print($0) }
            } catch {
                throw CommandFailure(error.localizedDescription)
            }
            print("\(name.rawValue): \(folder.path)")
            return
        }
        let catalog = data.catalog
        var found = 0
        for name in DatasetName.allCases where data.dataset == nil || data.dataset == name {
            if name == .dsprites {
                if let file = catalog.dspritesFile() {
                    print("dsprites: \(file.path) (\(DSprites.count()) images of 64x64; `vae train --dataset dsprites` trains on all of them and tests on \(DSprites.testImageCount))")
                    found += 1
                } else {
                    print("dsprites: not found (`vae data --make dsprites` draws it); searched \(catalog.searchFolders(for: name).map(\.path).joined(separator: ", "))")
                }
                continue
            }
            if let folder = catalog.locate(name) {
                let test: ImageDataset
                do { test = try catalog.load(name, split: .test) } catch { throw CommandFailure(error.localizedDescription) }
                print("\(name.rawValue): \(folder.path) (test split: \(test.count) images of \(test.shape))")
                found += 1
            } else {
                print("\(name.rawValue): not found; searched \(catalog.searchFolders(for: name).map(\.path).joined(separator: ", "))")
            }
        }
        // A folder the user names must hold what was asked for.
        if found == 0, data.dataDir != nil || data.dataset != nil {
            let name = data.dataset ?? .mnist
            do { _ = try catalog.load(name, split: .test) } catch { throw CommandFailure(error.localizedDescription) }
        }
    }

    /// Draws dSprites' grid into `<data-dir>/dsprites/dsprites-rendered.npz` (a file already
    /// there is kept), then reads it back and prints what it holds.
    func makeDSprites() throws {
        let folder = URL(fileURLWithPath: data.dataDir ?? "data").appendingPathComponent("dsprites")
        let file = folder.appendingPathComponent(DSprites.renderedFileName)
        if FileManager.default.fileExists(atPath: file.path) {
            print("\(file.path) is already there; it was kept (remove it to draw it again)")
        } else {
            do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
                throw CommandFailure("cannot create \(folder.path): \(error.localizedDescription)")
            }
            let started = Date()
            var reported = 0
            let archive = DSprites.renderArchive { done in
                if done - reported >= 100_000 || done == DSprites.count() {
                    print(String(format: "drawn %d of %d images (%.0f s)", done, DSprites.count(), Date().timeIntervalSince(started)))
                    reported = done
                }
            }
            do { try archive.write(to: file) } catch { throw CommandFailure(error.localizedDescription) }
            print(String(format: "wrote %@ (%.1f MB) in %.0f s", file.path, Double(archive.byteCount) / 1e6, Date().timeIntervalSince(started)))
        }
        let started = Date()
        let images: FactorImages
        do { images = try DSprites.read(file) } catch { throw CommandFailure(error.localizedDescription) }
        print(String(format: "read back %d images of %dx%d with factors %@ in %.1f s", images.count, images.side, images.side,
                     images.factors.map { "\($0.name) (\($0.count))" }.joined(separator: ", "), Date().timeIntervalSince(started)))
    }

    /// Writes every dSprites image as a PNG in one folder per shape, `<to>/<shape>/<index>.png`
    /// (index in the grid's order), and `<to>/factors.csv`: per image its file, each factor's
    /// value and each factor's class.
    func exportDSprites(to folder: URL) throws {
        guard !FileManager.default.fileExists(atPath: folder.path) else {
            throw CommandFailure("\(folder.path) already exists; choose a new folder to export into (nothing was written)")
        }
        let images: FactorImages
        do { images = try data.catalog.loadFactorImages() } catch { throw CommandFailure(error.localizedDescription) }
        let file = URL(fileURLWithPath: images.source)
        let started = Date()
        let shapeFolders = DSprites.shapeNames.map { folder.appendingPathComponent($0) }
        for shapeFolder in shapeFolders {
            do { try FileManager.default.createDirectory(at: shapeFolder, withIntermediateDirectories: true) } catch {
                throw CommandFailure("cannot create \(shapeFolder.path): \(error.localizedDescription)")
            }
        }
        var csv = "file," + images.factors.map(\.name).joined(separator: ",") + "," + images.factors.map { $0.name + "_class" }.joined(separator: ",") + "\n"
        var pixels = [Float](repeating: 0, count: images.side * images.side)
        for index in 0..<images.count {
            let classes = images.classes(ofImage: index)
            pixels.withUnsafeMutableBufferPointer { images.copyImage(index, into: $0.baseAddress!) }
            let name = "\(DSprites.shapeNames[classes[1]])/\(String(format: "%06d", index)).png"
            let picture = Picture(width: images.side, height: images.side, pixels: pixels.map { $0 > 0 ? 255 : 0 })
            do { try picture.writePNG(to: folder.appendingPathComponent(name)) } catch { throw CommandFailure(error.localizedDescription) }
            let values = (0..<images.factors.count).map { String(images.values[index * images.factors.count + $0]) }
            csv += name + "," + values.joined(separator: ",") + "," + classes.map(String.init).joined(separator: ",") + "\n"
        }
        do { try writeAtomically(Data(csv.utf8), to: folder.appendingPathComponent("factors.csv")) } catch { throw CommandFailure(error.localizedDescription) }
        print(String(format: "wrote %d PNG files of dSprites (from %@) and factors.csv to %@ in %.1f s", images.count, file.path, folder.path,
                     Date().timeIntervalSince(started)))
    }

    /// Writes both splits of `name` as 8-bit PNG files, `<to>/<split>/<class>/<index>.png`
    /// (class names with "/" get "-"), so that the folder reads back to the same pixels and labels.
    func exportDataset(_ name: DatasetName, to folder: URL) throws {
        guard !FileManager.default.fileExists(atPath: folder.path) else {
            throw CommandFailure("\(folder.path) already exists; choose a new folder to export into (nothing was written)")
        }
        let catalog = data.catalog
        let loaded: LoadedDataset
        do { loaded = try catalog.loadSplits(name) } catch { throw CommandFailure(error.localizedDescription) }
        let started = Date()
        for (splitName, split) in [("train", loaded.train), ("test", loaded.test)] {
            let classFolders = split.classNames.map { folder.appendingPathComponent(splitName).appendingPathComponent($0.replacingOccurrences(of: "/", with: "-")) }
            for classFolder in classFolders {
                do { try FileManager.default.createDirectory(at: classFolder, withIntermediateDirectories: true) } catch {
                    throw CommandFailure("cannot create \(classFolder.path): \(error.localizedDescription)")
                }
            }
            let digits = String(split.count - 1).count
            for index in 0..<split.count {
                let levels = split.image(index).map { Picture.level($0) }
                let picture = Picture(width: split.shape.width, height: split.shape.height, pixels: levels)
                let file = classFolders[split.labels[index]].appendingPathComponent(String(format: "%0\(digits)d.png", index))
                do { try picture.writePNG(to: file) } catch { throw CommandFailure(error.localizedDescription) }
            }
        }
        print(String(format: "wrote %d + %d PNG files of %@ to %@ in %.1f s", loaded.train.count, loaded.test.count, name.rawValue, folder.path,
                     Date().timeIntervalSince(started)))
    }
}

/// The datasets `vae data --make` draws.
enum MadeDataset: String, CaseIterable, ExpressibleByArgument {
    case dsprites
}

/// What `vae data --export` writes: a named dataset (dSprites as PNGs with its factors).
typealias ExportedDataset = DatasetName
