import ArgumentParser
import Datasets
import Foundation
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
        a named dataset is written as PNG files in train/ and test/ class subfolders, a folder `vae train --images` reads.
        """)

    @OptionGroup(title: "Data") var data: DataOptions

    @Option(help: "Download this dataset.") var download: DatasetName?

    @Option(help: "A mirror to download from instead of the standard ones (a URL ending in /).")
    var mirror: String?

    @Option(help: "Export this named dataset as PNG files (with --to).") var export: DatasetName?
    @Option(help: "The folder to export into (it must not exist yet).") var to: String?

    func validate() throws {
        if (export == nil) != (to == nil) { throw ValidationError("--export NAME and --to FOLDER go together") }
        try data.refuseFolderOptionsWithoutAFolder()
    }

    func run() throws {
        if let export, let to { return try exportDataset(export, to: URL(fileURLWithPath: to)) }
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
