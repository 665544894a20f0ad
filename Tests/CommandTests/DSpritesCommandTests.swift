import Foundation
import Testing

/// `vae data --make dsprites` and `--export dsprites`: what they refuse, each with the file or
/// option named, a non-zero exit and nothing written.
@Suite struct DSpritesCommandTests {
    @Test func exportingDSpritesWithoutItsFileSaysHowToMakeIt() throws {
        let scratch = try ScratchFolder("dsprites-none")
        let exported = try Tool.run(["data", "--export", "dsprites", "--data-dir", scratch.path("data"), "--to", scratch.path("out")])
        #expect(exported.status != 0 && exported.output.contains("dataset 'dsprites' not found: no folder holds dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz or dsprites-rendered.npz. Searched: \(scratch.path("data")), \(scratch.path("data"))/dsprites") && exported.output.contains("vae data --make dsprites"), "\(exported.output)")
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

    @Test func dSpritesIsDrawnNotDownloadedAndTrainingWithoutItSaysHowToMakeIt() throws {
        let scratch = try ScratchFolder("dsprites-train-none")
        let downloaded = try Tool.run(["data", "--download", "dsprites"])
        #expect(downloaded.status != 0 && downloaded.output.contains("dsprites is not downloaded: `vae data --make dsprites` draws it"), "\(downloaded.output)")
        let trained = try Tool.run(["train", "--preset", "dsprites-conv", "--dataset", "dsprites", "--data-dir", scratch.path("data"), "--out", scratch.path("run")])
        #expect(trained.status != 0 && trained.output.contains("dataset 'dsprites' not found") && trained.output.contains("vae data --make dsprites"), "\(trained.output)")
        let classified = try Tool.run(["classify", "--dataset", "dsprites"])
        #expect(classified.status != 0 && classified.output.contains("vae eval --disentanglement"), "\(classified.output)")
    }

    @Test func disentanglementMetricsAndFactorCodesAreRefusedForADatasetWithoutFactors() throws {
        let scratch = try ScratchFolder("dsprites-no-factors")
        let data = try scratch.tinyDataset()
        let run = scratch.path("run")
        let trained = try Tool.run(ConvolutionalCommandTests.arguments(data: data, out: run, epochs: 1))
        #expect(trained.status == 0, "\(trained.output)")
        let evaluated = try Tool.run(["eval", run, "--disentanglement", "--data-dir", data.path])
        #expect(evaluated.status != 0 && evaluated.output.contains("--disentanglement needs a dataset with known generative factors (dsprites)")
                && evaluated.output.contains("whose images have no factors"), "\(evaluated.output)")
        let encoded = try Tool.run(["encode", run, "--count", "5", "--data-dir", data.path])
        #expect(encoded.status != 0 && encoded.output.contains("--count applies to dSprites"), "\(encoded.output)")
        // The traversal as a GIF, one frame per step; the GIF's name goes with --animate.
        let traversed = try Tool.run(["traverse", run, "--animate", "--steps", "5", "--data-dir", data.path, "--out", scratch.path("t.png")])
        #expect(traversed.status == 0 && traversed.output.contains("wrote \(scratch.path("t.gif")): 5 frames") && FileManager.default.fileExists(atPath: scratch.path("t.gif")),
                "\(traversed.output)")
        let named = try Tool.run(["traverse", run, "--animation", scratch.path("u.gif"), "--data-dir", data.path, "--out", scratch.path("u.png")])
        #expect(named.status != 0 && named.output.contains("--animation FILE names the GIF of --animate; add --animate"), "\(named.output)")
        // A model of other images cannot encode dSprites' 64x64 ones.
        let foreign = try Tool.run(["encode", run, "--dataset", "dsprites", "--count", "5", "--data-dir", data.path])
        #expect(foreign.status != 0 && foreign.output.contains("dSprites' are 1x64x64"), "\(foreign.output)")
    }
}
