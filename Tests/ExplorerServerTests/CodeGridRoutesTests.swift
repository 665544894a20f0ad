import Datasets
import ExplorerServer
import Foundation
import Hummingbird
import NN
import Runs
import TensorCore
import Testing
import VAE
import VAEModels
import Visualization

/// The explorer's code-grid page and API for a VQ-VAE: a test image's grid, the picture of an
/// edited grid, indices outside the codebook refused naming their cell, and grids drawn from the
/// run's code prior (refused without one).
@Suite struct CodeGridRoutesTests {
    init() { StandardModelKinds.register() }

    /// 8x8 grey images -> a 4x4 grid of 3-dimensional codes from 6, with random weights, loaded
    /// back from its file as `vae explore` loads it; 20 labelled test images; `prior` when given.
    static func service(prior: GatedPixelCNN? = nil) throws -> (CodeGridService, any DiscreteLatentModel) {
        let configuration = VectorQuantizedConfiguration(
            imageShape: .grey(height: 8, width: 8), encoderConvolutions: [ConvolutionLayer(channels: 8, kernel: 4, stride: 2, padding: 1)],
            codeDimension: 3, codebookSize: 6, decoderConvolutions: [ConvolutionLayer(channels: 8, kernel: 4, stride: 2, padding: 1)])
        var generator = RandomGenerator(seed: 5)
        let model = try VectorQuantizedVAE(configuration, using: &generator)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("code-grid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("model.safetensors")
        try TrainingCheckpoint.modelFile(model).write(to: file)
        let loaded = try LoadedModel.load(path: file.path, preset: Preset.named("pytorch-example")!.configuration)
        let pixels = (0..<(20 * 64)).map { Float(($0 * 37) % 101) / 100 }
        let test = ImageDataset(pixels: pixels, shape: .grey(height: 8, width: 8), labels: (0..<20).map { $0 % 3 }, classNames: ["a", "b", "c"])
        return (try CodeGridService(loaded: loaded, test: test, prior: prior), loaded.model as! any DiscreteLatentModel)
    }

    static func json(_ response: RouterResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    /// A test image's grid is its nearest codes; decoding a grid gives the model's picture of it,
    /// and an edited cell gives another picture.
    @Test func aTestImagesGridAndAnEditedGridDecodeToTheModelsPictures() async throws {
        let (service, model) = try Self.service()
        let client = RouterClient(ExplorerRoutes.router(service))
        let codes = try await client.execute(uri: "/api/test?index=3", method: .get) { response in
            #expect(response.status == .ok)
            let object = try Self.json(response)
            #expect(object["label"] as? Int == 0)
            return try #require(object["codes"] as? [Int])
        }
        #expect(codes.count == 16 && codes.allSatisfy { (0..<6).contains($0) })
        let image = Tensor(shape: [1, 64], scalars: (0..<64).map { Float(((3 * 64 + $0) * 37) % 101) / 100 })
        #expect(codes == model.codes(image).map(Int.init))
        var edited = codes
        edited[5] = (edited[5] + 3) % 6
        for grid in [codes, edited] {
            try await client.execute(uri: "/api/decode-codes?codes=" + grid.map(String.init).joined(separator: ","), method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "image/png")
                let picture = try levels(response.body)
                let expected = withoutGradients { model.decode(codes: grid.map(Int32.init), count: 1).mean.scalars }
                #expect(picture.width == 8 && picture.height == 8 && picture.channels == 1)
                let error = zip(picture.pixels, expected).map { abs(Float($0) / 255 - min(max($1, 0), 1)) }.max()!
                #expect(error <= 0.5 / 255 + 1e-4, "largest difference \(error)")
            }
        }
        try await client.execute(uri: "/api/model", method: .get) { response in
            let object = try Self.json(response)
            #expect(object["codebookSize"] as? Int == 6 && (object["grid"] as? [String: Int])?["width"] == 4 && object["prior"] == nil)
        }
        try await client.execute(uri: "/", method: .get) { response in #expect(message(response).contains("id=\"grid\"")) }
    }

    /// An index outside the codebook is refused naming its cell; so are grids of the wrong size,
    /// non-numbers and a missing grid; a continuous latent vector is refused naming the right route.
    @Test(arguments: [
        ("codes=" + (Array(repeating: "0", count: 5) + ["6"] + Array(repeating: "0", count: 10)).joined(separator: ","), "cell (1, 1) is 6, outside the codebook: each index must be 0...5"),
        ("codes=" + (Array(repeating: "0", count: 15) + ["-1"]).joined(separator: ","), "cell (3, 3) is -1, outside the codebook"),
        ("codes=" + Array(repeating: "0", count: 15).joined(separator: ","), "the grid has 16 cells (4x4), got 15 indices"),
        ("codes=" + (Array(repeating: "0", count: 15) + ["x"]).joined(separator: ","), "cell (3, 3) is not a whole number"),
        ("", "codes: missing"),
    ])
    func badGridsAreRefusedNamingTheCell(query: String, expected: String) async throws {
        let (service, _) = try Self.service()
        let client = RouterClient(ExplorerRoutes.router(service))
        try await client.execute(uri: "/api/decode-codes?" + query, method: .get) { response in
            #expect(response.status == .badRequest)
            #expect(message(response).contains(expected), "\(message(response))")
        }
        try await client.execute(uri: "/api/decode?z=0,0", method: .get) { response in
            #expect(response.status == .badRequest && message(response).contains("decode-codes"), "\(message(response))")
        }
    }

    /// Draws come from the run's code prior (the same seed, the same grid; a conditional prior
    /// needs a class in range); without a prior a draw is refused naming `vae train-prior`.
    @Test func drawsComeFromTheCodePriorAndAreRefusedWithoutOne() async throws {
        let (plain, _) = try Self.service()
        try await RouterClient(ExplorerRoutes.router(plain)).execute(uri: "/api/draw?seed=1", method: .get) { response in
            #expect(response.status == .badRequest && message(response).contains("vae train-prior"))
        }
        var generator = RandomGenerator(seed: 9)
        let prior = GatedPixelCNN(GatedPixelCNNConfiguration(codes: 6, height: 4, width: 4, classes: 3, channels: 8, layers: 2, outputChannels: 8), using: &generator)
        let (service, _) = try Self.service(prior: prior)
        let client = RouterClient(ExplorerRoutes.router(service))
        var drawn: [[Int]] = []
        for _ in 0..<2 {
            try await client.execute(uri: "/api/draw?seed=4&label=2", method: .get) { response in
                #expect(response.status == .ok)
                drawn.append(try #require(try Self.json(response)["codes"] as? [Int]))
            }
        }
        var again = RandomGenerator(seed: 4)
        #expect(drawn[0] == drawn[1] && drawn[0] == prior.sample(count: 1, labels: [2], using: &again).map(Int.init))
        for (query, expected) in [("seed=4", "give a class 0...2"), ("seed=4&label=3", "give a class 0...2"), ("seed=x&label=1", "seed: must be a whole number")] {
            try await client.execute(uri: "/api/draw?" + query, method: .get) { response in
                #expect(response.status == .badRequest && message(response).contains(expected), "\(query): \(message(response))")
            }
        }
        try await client.execute(uri: "/api/model", method: .get) { response in
            let object = try Self.json(response)
            #expect((object["prior"] as? [String: Int])?["classes"] == 3)
        }
    }

    /// A prior of another grid or codebook is refused when the service starts.
    @Test func aPriorOfAnotherGridIsRefused() throws {
        var generator = RandomGenerator(seed: 9)
        let prior = GatedPixelCNN(GatedPixelCNNConfiguration(codes: 7, height: 4, width: 4, channels: 8, layers: 1, outputChannels: 8), using: &generator)
        #expect(throws: ExplorerRequestError.self) { _ = try Self.service(prior: prior) }
    }
}
