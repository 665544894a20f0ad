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

    @Test func anExplicitDataFolderThatLacksAFileIsAnErrorNotAFallBack() throws {
        let fixture = Fixture()
        defer { fixture.remove() }
        _ = fixture.write(Fixture.images, "train-images-idx3-ubyte", gzip: false)
        _ = fixture.write(Fixture.labels, "train-labels-idx1-ubyte", gzip: false)
        _ = fixture.write(Fixture.images, "t10k-images-idx3-ubyte", gzip: false)
        // With the labels of the test split missing, the shipped data/mnist (found from the
        // checkout) must not be used in its place.
        let catalog = DatasetCatalog(dataDirectory: fixture.folder)
        #expect(catalog.searchFolders(for: .mnist) == [fixture.folder, fixture.folder.appendingPathComponent("mnist")])
        #expect(catalog.locate(.mnist) == nil)
        #expect { try catalog.load(.mnist, split: .train) } throws: { error in
            let message = (error as? DatasetError)?.localizedDescription ?? ""
            return message.contains(fixture.folder.path) && message.contains("t10k-labels-idx1-ubyte[.gz]") && message.contains("no other copy was used")
                && !message.contains("train-images")
        }
        #expect { try DatasetCatalog(dataDirectory: fixture.folder.appendingPathComponent("t10k-images-idx3-ubyte")).load(.mnist, split: .train) } throws: { error in
            (error as? DatasetError)?.localizedDescription.contains("it is a file, not a folder") == true
        }
    }

    @Test func theMNISTTheToolkitShipsIsSearchedWhereverTheProgramRuns() throws {
        // The toolkit's own checkout (derived from its sources' path, so it is the same from a
        // dependent package) is searched, and it holds the shipped MNIST.
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("data/mnist").standardizedFileURL.path
        let folders = DatasetCatalog().searchFolders(for: .mnist).map { $0.standardizedFileURL.path }
        #expect(folders.contains(shipped), "\(folders)")
        #expect(FileManager.default.fileExists(atPath: shipped + "/train-images-idx3-ubyte.gz"))
        // A named folder is still the only place searched.
        #expect(!DatasetCatalog(dataDirectory: URL(fileURLWithPath: "/nowhere")).searchFolders(for: .mnist).map(\.path).contains(shipped))
    }

    @Test func notFoundErrorListsTheSearchedFoldersWithAHint() {
        let message = DatasetError.notFound(name: "fashion-mnist", searched: ["/a", "/b/fashion-mnist"]).localizedDescription
        #expect(message.contains("'fashion-mnist' not found") && message.contains("/a, /b/fashion-mnist"))
        #expect(message.contains("give the folder") && message.contains("dataset-fashion-mnist"))
    }
}
