import Datasets
import Foundation
import Testing

@Suite struct DatasetCatalogTests {
    @Test func dataDirectoryIsSearchedFirstAndGzippedOrRawFilesBothCount() throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        _ = fixture.write(Fixture.images, "train-images-idx3-ubyte.gz", gzip: true)
        _ = fixture.write(Fixture.labels, "train-labels-idx1-ubyte", gzip: false)
        _ = fixture.write(Fixture.images, "t10k-images-idx3-ubyte", gzip: false)
        _ = fixture.write(Fixture.labels, "t10k-labels-idx1-ubyte.gz", gzip: true)
        let catalog = DatasetCatalog(dataDirectory: fixture.folder)
        #expect(catalog.searchFolders(for: .mnist).first == fixture.folder)
        #expect(catalog.locate(.mnist)?.path == fixture.folder.path)
        let test = try catalog.load(.mnist, split: .test)
        #expect(test.count == 3 && test.labels == [7, 0, 9])
    }

    @Test func notFoundErrorListsTheSearchedFoldersWithAHint() {
        let message = DatasetError.notFound(name: "fashion-mnist", searched: ["/a", "/b/fashion-mnist"]).localizedDescription
        #expect(message.contains("'fashion-mnist' not found") && message.contains("/a, /b/fashion-mnist"))
        #expect(message.contains("give the folder") && message.contains("dataset-fashion-mnist"))
    }
}
