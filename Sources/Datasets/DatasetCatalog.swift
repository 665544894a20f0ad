import Foundation

/// The datasets known by name, and where to find their files.
public enum DatasetName: String, CaseIterable, Sendable {
    case mnist
    case fashionMNIST = "fashion-mnist"
    /// dSprites (see `DSprites`): one `.npz` file, not four IDX files; its images are labelled by shape.
    case dsprites

    /// Whether the dataset is four IDX files (MNIST's form), rather than dSprites' archive.
    public var isIDX: Bool { self != .dsprites }

    /// The names of the classes, by label.
    public var classNames: [String] {
        switch self {
        case .mnist: (0...9).map(String.init)
        case .fashionMNIST: ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        case .dsprites: DSprites.shapeNames
        }
    }

    /// The side of the square an imported picture's ink is scaled to fit (see `ImageTransform.digitBox`):
    /// MNIST's digits fit 20x20 inside the 28x28 frame; Fashion-MNIST's items fill it.
    public var inkBox: Int {
        switch self {
        case .mnist: 20
        case .fashionMNIST: 28
        case .dsprites: DSprites.side
        }
    }
}

/// The two splits of a dataset.
public enum DatasetSplit: String, CaseIterable, Sendable {
    case train, test

    /// The standard IDX file names, without the optional `.gz`.
    public var fileNames: (images: String, labels: String) {
        switch self {
        case .train: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
        case .test: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
        }
    }
}

/// Finds a dataset's four IDX files (gzipped or raw) in an ordered list of folders:
/// `$VAE_DATA_DIR` (itself, then its `<name>` subfolder), `./data/<name>`, the `data/<name>`
/// folder of the checkout the executable was built in, the `data/<name>` folder of the toolkit's
/// own checkout (so a package that depends on the toolkit, by path or by URL, finds the MNIST it
/// ships: the checkout stays on disk beside the dependent's build), and `/usr/share/datasets/<name>`
/// (Debian's dataset packages, e.g. `dataset-fashion-mnist`). A folder the user names
/// (`--data-dir`) is the only place searched (itself, then its `<name>` subfolder): a folder
/// that lacks a file is an error, never a silent fall-back to another copy.
public struct DatasetCatalog: Sendable {
    /// The folder given by the user, or nil to search the standard places.
    public let dataDirectory: URL?

    /// A catalog that reads from `dataDirectory` only, or (nil) searches the standard places in order.
    public init(dataDirectory: URL? = nil) {
        self.dataDirectory = dataDirectory
    }

    /// The folders searched for `name`, in order.
    public func searchFolders(for name: DatasetName) -> [URL] {
        if let dataDirectory { return [dataDirectory, dataDirectory.appendingPathComponent(name.rawValue)] }
        var folders: [URL] = []
        if let root = ProcessInfo.processInfo.environment["VAE_DATA_DIR"].map({ URL(fileURLWithPath: $0) }) {
            folders += [root, root.appendingPathComponent(name.rawValue)]
        }
        folders.append(URL(fileURLWithPath: "data").appendingPathComponent(name.rawValue))
        if let checkout = Self.checkoutOfExecutable() {
            folders.append(checkout.appendingPathComponent("data").appendingPathComponent(name.rawValue))
        }
        folders.append(Self.toolkitCheckout.appendingPathComponent("data").appendingPathComponent(name.rawValue))
        folders.append(URL(fileURLWithPath: "/usr/share/datasets").appendingPathComponent(name.rawValue))
        var seen = Set<String>()
        return folders.filter { seen.insert($0.standardizedFileURL.path).inserted }
    }

    /// The package checkout the running executable was built in: the nearest folder above it
    /// that holds `Package.swift` (the executable lives in `.build/<triple>/<configuration>/`).
    static func checkoutOfExecutable() -> URL? {
        guard var folder = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent() else { return nil }
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) { return folder }
            folder.deleteLastPathComponent()
        }
        return nil
    }

    /// The toolkit's own checkout, where this file was compiled from (`Sources/Datasets/` two
    /// levels below it). Package resources would copy the 11 MB of MNIST into every build folder
    /// and crash a program moved away from its resource bundle; the checkout is already on disk.
    static let toolkitCheckout = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The file for `baseName` in `folder`, gzipped or raw, if present.
    static func file(_ baseName: String, in folder: URL) -> URL? {
        [baseName + ".gz", baseName].map { folder.appendingPathComponent($0) }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// The first folder that holds all four files of `name` (for dSprites, its archive).
    public func locate(_ name: DatasetName) -> URL? {
        if name == .dsprites { return dspritesFile()?.deletingLastPathComponent() }
        return searchFolders(for: name).first { folder in
            DatasetSplit.allCases.allSatisfy { split in
                Self.file(split.fileNames.images, in: folder) != nil && Self.file(split.fileNames.labels, in: folder) != nil
            }
        }
    }

    /// The dSprites archive in the first of `searchFolders(for: .dsprites)` that holds one: the
    /// original file when a folder holds both.
    public func dspritesFile() -> URL? {
        for folder in searchFolders(for: .dsprites) {
            for name in [DSprites.originalFileName, DSprites.renderedFileName] where FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) {
                return folder.appendingPathComponent(name)
            }
        }
        return nil
    }

    /// Reads dSprites' archive with its factors.
    public func loadFactorImages() throws(DatasetError) -> FactorImages {
        guard let file = dspritesFile() else {
            throw .notFound(name: DatasetName.dsprites.rawValue, searched: searchFolders(for: .dsprites).map(\.path))
        }
        do { return try DSprites.read(file) } catch { throw .archive(error) }
    }

    /// Reads one split of `name`. dSprites' training split is every image, packed one bit per
    /// pixel; its test split is `DSprites.testImageCount` of them, drawn by a fixed seed.
    public func load(_ name: DatasetName, split: DatasetSplit) throws(DatasetError) -> ImageDataset {
        if name == .dsprites {
            let images = try loadFactorImages()
            return split == .train ? images.packedDataset(labelFactor: 1) : images.dataset(DSprites.testIndices(of: images.count), labelFactor: 1)
        }
        guard let folder = locate(name) else {
            if let dataDirectory {
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: dataDirectory.path, isDirectory: &isFolder) else {
                    throw .unreadable(folder: dataDirectory.path, reason: "no such folder (the data folder must hold the dataset's four IDX files)")
                }
                guard isFolder.boolValue else {
                    throw .unreadable(folder: dataDirectory.path, reason: "it is a file, not a folder (the data folder must hold the dataset's four IDX files)")
                }
                let missing = DatasetSplit.allCases.flatMap { [$0.fileNames.images, $0.fileNames.labels] }
                    .filter { Self.file($0, in: dataDirectory) == nil }
                throw .unreadable(folder: dataDirectory.path, reason: "it lacks \(missing.map { $0 + "[.gz]" }.joined(separator: ", ")) of dataset '\(name.rawValue)' (nor does its \(name.rawValue) subfolder hold all four); no other copy was used")
            }
            throw .notFound(name: name.rawValue, searched: searchFolders(for: name).map(\.path))
        }
        let (images, labels) = split.fileNames
        do {
            return try ImageDataset.read(images: Self.file(images, in: folder)!, labels: Self.file(labels, in: folder)!, classNames: name.classNames)
        } catch {
            throw .invalid(error)
        }
    }
}

/// A dataset could not be found or read.
public enum DatasetError: Error, LocalizedError, Equatable {
    case notFound(name: String, searched: [String])
    case invalid(IDXError)
    case unknown(name: String)
    case unreadable(folder: String, reason: String)
    case folder(ImageFolderError)
    case archive(NumpyArchiveError)

    /// What is missing or wrong, naming the folder or file and what was expected there.
    public var errorDescription: String? {
        switch self {
        case let .notFound(name, searched) where name == DatasetName.dsprites.rawValue:
            "dataset 'dsprites' not found: no folder holds \(DSprites.originalFileName) or \(DSprites.renderedFileName). Searched: \(searched.joined(separator: ", ")). Hint: `vae data --make dsprites` draws it into ./data/dsprites, or put the original file there."
        case let .notFound(name, searched):
            "dataset '\(name)' not found: no folder holds its four IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]). Searched: \(searched.joined(separator: ", ")). Hint: give the folder that holds them\(name == "fashion-mnist" ? ", or install Debian's dataset-fashion-mnist package" : "")."
        case let .invalid(error):
            error.localizedDescription
        case let .unknown(name):
            "unknown dataset '\(name)'; datasets by name: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")), or a folder of images"
        case let .unreadable(folder, reason):
            "cannot read the dataset files in \(folder): \(reason)"
        case let .folder(error):
            error.message
        case let .archive(error):
            error.localizedDescription
        }
    }
}

extension DatasetCatalog {
    /// Both splits of a named dataset, with the folder and the SHA-256 of its four files.
    public func loadSplits(_ name: DatasetName) throws(DatasetError) -> LoadedDataset {
        if name == .dsprites {
            let images = try loadFactorImages(), file = URL(fileURLWithPath: images.source)
            let checksum: String
            do { checksum = try SHA256.hex(ofFile: file) } catch { throw .unreadable(folder: file.deletingLastPathComponent().path, reason: error.localizedDescription) }
            let test = images.dataset(DSprites.testIndices(of: images.count), labelFactor: 1)
            return LoadedDataset(train: images.packedDataset(labelFactor: 1), test: test, folder: file.deletingLastPathComponent().path,
                                 checksums: [file.lastPathComponent: checksum],
                                 report: "dsprites: \(file.path) (all \(images.count) images of 64x64 train, one bit a pixel; \(test.count) of them, drawn by a fixed seed, test)")
        }
        let train = try load(name, split: .train), test = try load(name, split: .test)
        let folder = locate(name)!
        var checksums: [String: String] = [:]
        do {
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where file.hasPrefix("train-") || file.hasPrefix("t10k-") {
                checksums[file] = try SHA256.hex(ofFile: folder.appendingPathComponent(file))
            }
        } catch {
            throw .unreadable(folder: folder.path, reason: error.localizedDescription)
        }
        return LoadedDataset(train: train, test: test, folder: folder.path, checksums: checksums,
                             report: "\(name.rawValue): \(folder.path) (\(train.count) train / \(test.count) test images of \(train.shape))")
    }

    /// The dataset a run names: an image folder when `folder` is given, else the named IDX dataset.
    /// `otherBytes`: what the run needs beside a folder's images, for their shape (see
    /// `ImageFolder.load`).
    public func loadSplits(dataset: String, folder: ImageFolderOptions?,
                           otherBytes: @Sendable (ImageShape) -> (bytes: Double, what: String)? = { _ in nil }) throws(DatasetError) -> LoadedDataset {
        if let folder {
            do { return try ImageFolder.load(folder, otherBytes: otherBytes) } catch { throw .folder(error) }
        }
        guard let name = DatasetName(rawValue: dataset) else {
            throw .unknown(name: dataset)
        }
        return try loadSplits(name)
    }
}
