import Foundation
import Testing

/// `vae data --make dsprites` and `--export dsprites`: what they refuse, each with the file or
/// option named, a non-zero exit and nothing written.
@Suite struct DSpritesCommandTests {
    @Test func exportingDSpritesWithoutItsFileSaysHowToMakeIt() throws {
        let scratch = try ScratchFolder("dsprites-none")
        let exported = try Tool.run(["data", "--export", "dsprites", "--data-dir", scratch.path("data"), "--to", scratch.path("out")])
        #expect(exported.status != 0 && exported.output.contains("no dSprites file in \(scratch.path("data"))/dsprites") && exported.output.contains("vae data --make dsprites"), "\(exported.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("out")))
    }

    @Test func aForeignArchiveInDSpritesPlaceIsRefusedNamingTheArray() throws {
        let scratch = try ScratchFolder("dsprites-foreign")
        let folder = scratch.url.appendingPathComponent("data/dsprites")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // NumPy's own small archive: valid, but not dSprites.
        let numpy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("DatasetsTests/Fixtures/numpy-savez.npz")
        try FileManager.default.copyItem(at: numpy, to: folder.appendingPathComponent("dsprites-rendered.npz"))
        let exported = try Tool.run(["data", "--export", "dsprites", "--data-dir", scratch.path("data"), "--to", scratch.path("out")])
        #expect(exported.status != 0 && exported.output.contains("dsprites-rendered.npz: no array 'latents_classes' in the archive (it holds small, values, counts)"), "\(exported.output)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("out")))
        // --make keeps a file that is there, and checks it.
        let made = try Tool.run(["data", "--make", "dsprites", "--data-dir", scratch.path("data")])
        #expect(made.status != 0 && made.output.contains("is already there; it was kept") && made.output.contains("no array 'latents_classes'"), "\(made.output)")
    }

    @Test func makeGoesWithNoOtherSource() throws {
        let made = try Tool.run(["data", "--make", "dsprites", "--images", "/tmp"])
        #expect(made.status != 0 && made.output.contains("--make draws a dataset; it does not go with --export, --download or --images"), "\(made.output)")
        let unknown = try Tool.run(["data", "--make", "shapes3d"])
        #expect(unknown.status != 0 && unknown.output.contains("dsprites"), "\(unknown.output)")
    }
}
