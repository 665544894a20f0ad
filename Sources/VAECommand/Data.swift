import ArgumentParser
import Datasets
import Foundation

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "List the datasets the tool knows and where it finds their files.")

    @Option(help: "A folder holding the IDX files (or a subfolder named after the dataset).")
    var dataDir: String?

    func run() throws {
        let catalog = DatasetCatalog(dataDirectory: dataDir.map { URL(fileURLWithPath: $0) })
        for name in DatasetName.allCases {
            if let folder = catalog.locate(name) {
                let test = try catalog.load(name, split: .test)
                print("\(name.rawValue): \(folder.path) (test split: \(test.count) images of \(test.rows)x\(test.columns))")
            } else {
                print("\(name.rawValue): not found; searched \(catalog.searchFolders(for: name).map(\.path).joined(separator: ", "))")
            }
        }
    }
}
