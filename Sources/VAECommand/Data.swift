import ArgumentParser
import Datasets
import Foundation

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "List the datasets the tool knows and where it finds their files, or download one.",
        discussion: "With --download NAME the four gzipped IDX files are fetched from the standard mirrors (or --mirror) into <data-dir>/<NAME> (default ./data/<NAME>) and kept only when their SHA-256 matches the published one.")

    @Option(help: "A folder holding the IDX files (or a subfolder named after the dataset).")
    var dataDir: String?

    @Option(help: "Download this dataset: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var download: String?

    @Option(help: "A mirror to download from instead of the standard ones (a URL ending in /).")
    var mirror: String?

    func run() throws {
        if let download {
            guard let name = DatasetName(rawValue: download) else {
                throw ValidationError("--download must be one of \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")); got '\(download)'")
            }
            let mirrors = try mirror.map { text -> [URL] in
                guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
                    throw ValidationError("--mirror must be an http(s) URL, got '\(text)'")
                }
                return [url]
            }
            let folder = URL(fileURLWithPath: dataDir ?? "data").appendingPathComponent(name.rawValue)
            do {
                try DatasetDownload(name: name, mirrors: mirrors).run(into: folder) { print($0) }
            } catch {
                throw CommandFailure(error.localizedDescription)
            }
            print("\(name.rawValue): \(folder.path)")
            return
        }
        let catalog = DatasetCatalog(dataDirectory: dataDir.map { URL(fileURLWithPath: $0) })
        for name in DatasetName.allCases {
            if let folder = catalog.locate(name) {
                let test = try catalog.load(name, split: .test)
                print("\(name.rawValue): \(folder.path) (test split: \(test.count) images of \(test.shape))")
            } else {
                print("\(name.rawValue): not found; searched \(catalog.searchFolders(for: name).map(\.path).joined(separator: ", "))")
            }
        }
    }
}
