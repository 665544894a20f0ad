import Datasets
import ExplorerServer
import Foundation
import Hummingbird
import LatentTools
import Runs
import TensorCore
import Testing
import VAE
import VAEModels
import Visualization

/// A model of `specification` with random weights, written as a model file and loaded back as
/// `vae explore` loads a run, with 40 labelled 8x8 test images.
func explorerService(_ specification: ModelSpecification, classes: Int = 3, sampler: (any LatentSampler)? = nil,
                     samplerName: String = "prior") throws -> (LatentSpaceService, any VariationalModel) {
    var generator = RandomGenerator(seed: 5)
    let model = try specification.makeModel(using: &generator)
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("explorer-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("model.safetensors")
    try TrainingCheckpoint.modelFile(model).write(to: file)
    let loaded = try LoadedModel.load(path: file.path, preset: Preset.named("pytorch-example")!.configuration)
    let shape = model.imageShape
    let pixels = (0..<(40 * shape.count)).map { Float(($0 * 37) % 101) / 100 }
    let test = ImageDataset(pixels: pixels, shape: shape, labels: (0..<40).map { $0 % classes },
                            classNames: (0..<classes).map { "class \($0)" })
    return (try LatentSpaceService(loaded: loaded, test: test, sampler: sampler, samplerName: samplerName), loaded.model)
}

let mlp = ModelSpecification.mlp(MLPConfiguration(inputSize: 64, hiddenSizes: [16], latentSize: 3))

func latentQuery(_ values: [Float]) -> String { values.map { String($0) }.joined(separator: ",") }

/// The grey levels of a PNG answer.
func levels(_ body: ByteBuffer) throws -> Picture {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("explorer-\(UUID().uuidString).png")
    defer { try? FileManager.default.removeItem(at: url) }
    try Data(buffer: body).write(to: url)
    return try Picture.read(from: url)
}

func message(_ response: RouterResponse) -> String { String(buffer: response.body) }

@Suite struct ExplorerRoutesTests {
    /// "random z" comes from the server's sampler: here a one-component mixture around (8, -8, 8),
    /// far from the prior's draws; the same seed gives the same z, and a bad seed is refused.
    @Test func drawsComeFromTheChosenSampler() async throws {
        let mixture = try #require(GaussianMixture(weights: [1], means: [[8, -8, 8]], covariances: [[0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01]]))
        let (service, _) = try explorerService(mlp, sampler: mixture, samplerName: "gmm")
        let client = RouterClient(ExplorerRoutes.router(service))
        try await client.execute(uri: "/api/model", method: .get) { response in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
            #expect(object["sampler"] as? String == "gmm")
        }
        var first: [Double] = []
        for _ in 0..<2 {
            try await client.execute(uri: "/api/draw?seed=3", method: .get) { response in
                #expect(response.status == .ok)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                let z = try #require(object["z"] as? [Double])
                #expect(z.count == 3 && abs(z[0] - 8) < 1 && abs(z[1] + 8) < 1 && abs(z[2] - 8) < 1, "\(z)")
                if first.isEmpty { first = z } else { #expect(z == first) }
            }
        }
        for bad in ["", "x", "-1", "9007199254740993"] {
            try await client.execute(uri: "/api/draw?seed=\(bad)", method: .get) { response in
                #expect(response.status == .badRequest && message(response).contains("seed: must be a whole number"), "\(bad)")
            }
        }
        #expect(throws: ExplorerRequestError.self) { try explorerService(mlp, sampler: PriorSampler(latentSize: 5)) }
    }

    @Test func thePageIsServedFromMemory() async throws {
        let (service, _) = try explorerService(mlp)
        do {
            let client = RouterClient(ExplorerRoutes.router(service))
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(message(response).contains("<title>vae explore</title>"))
            }
            // No other path reaches the file system.
            for path in ["/../Package.swift", "/index.html", "/%2e%2e/%2e%2e/etc/passwd", "/api/../../etc/passwd"] {
                try await client.execute(uri: path, method: .get) { response in #expect(response.status == .notFound, "\(path)") }
            }
        }
    }

    @Test func theModelOverviewOrdersTheDimensionsByKL() async throws {
        let (service, _) = try explorerService(mlp)
        do {
            let client = RouterClient(ExplorerRoutes.router(service))
            try await client.execute(uri: "/api/model", method: .get) { response in
                #expect(response.status == .ok)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(object["latentSize"] as? Int == 3 && object["kind"] as? String == "mlp")
                let kl = try #require(object["kl"] as? [Double]), order = try #require(object["order"] as? [Int])
                #expect(Set(order) == [0, 1, 2] && zip(order, order.dropFirst()).allSatisfy { kl[$0] >= kl[$1] })
                let scatter = try #require(object["scatter"] as? [String: Any])
                #expect((scatter["points"] as? [[Double]])?.count == 40)
                #expect(object["condition"] == nil && object["rendering"] == nil)
            }
        }
    }

    @Test func aDecodeIsTheModelsOwnPicture() async throws {
        let (service, model) = try explorerService(mlp)
        let latent: [Float] = [0.5, -1.25, 2]
        let expected = ImageGrid.make(images: withoutGradients { model.decode(latents: latent) }, shape: model.imageShape, rows: 1, columns: 1, gap: 0)
        do {
            let client = RouterClient(ExplorerRoutes.router(service))
            try await client.execute(uri: "/api/decode?z=" + latentQuery(latent), method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "image/png")
                let picture = try levels(response.body)
                #expect(picture == expected)
            }
            // Another point, another picture.
            let other = try await client.execute(uri: "/api/decode?z=" + latentQuery([-2, 2, 0]), method: .get) { try levels($0.body) }
            #expect(other != expected)
        }
    }

    @Test(arguments: [
        ("", "z: missing"), ("z=", "z: missing"), ("z=1,2", "3 dimensions, got 2"), ("z=1,2,3,4", "got 4"),
        ("z=1,nan,3", "value 1 is not a finite number"), ("z=1,2,inf", "value 2 is not a finite number"),
        ("z=1,2,x", "not a finite number"), ("z=1,,3", "value 1 is not a finite number"), ("z=1,2,21", "must lie in -20.0...20.0"),
        ("z=1,2,3&label=0", "unconditional"), ("z=1,2,3&transform=off", "the model has no transform to switch"), ("z=1,2,3&size=56", "renders at its training size only"),
        ("z=" + String(repeating: "1", count: 5000), "too long"),
    ])
    func aBadDecodeRequestIsA400NamingTheParameter(query: String, expected: String) async throws {
        let (service, _) = try explorerService(mlp)
        do {
            let client = RouterClient(ExplorerRoutes.router(service))
            try await client.execute(uri: "/api/decode?" + query, method: .get) { response in
                #expect(response.status == .badRequest, "\(query)")
                #expect(message(response).contains(expected), "\(query): \(message(response))")
            }
        }
    }

    @Test func testImagesAndTheirCodesAreServedAndBadIndicesRefused() async throws {
        let (service, model) = try explorerService(mlp)
        let latentSize = model.latentSize
        do {
            let client = RouterClient(ExplorerRoutes.router(service))
            try await client.execute(uri: "/api/test?index=7", method: .get) { response in
                #expect(response.status == .ok)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(object["label"] as? Int == 1 && (object["z"] as? [Double])?.count == latentSize)
            }
            try await client.execute(uri: "/api/test-image?index=39", method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "image/png")
                let picture = try levels(response.body)
                #expect(picture.width == 8)
            }
            for bad in ["40", "-1", "x", "", "99999999999999999999"] {
                for path in ["/api/test", "/api/test-image"] {
                    try await client.execute(uri: "\(path)?index=\(bad)", method: .get) { response in
                        #expect(response.status == .badRequest && message(response).contains("index: must be a test image 0...39"), "\(path) \(bad)")
                    }
                }
            }
        }
    }

    @Test func anUploadedPictureIsEncodedAndBadUploadsRefused() async throws {
        let (service, model) = try explorerService(mlp)
        let picture = Picture(width: 20, height: 12, pixels: (0..<240).map { UInt8(($0 * 7) % 256) })
        let png = try picture.pngData()
        let latentSize = model.latentSize
        do {
            let client = RouterClient(ExplorerRoutes.router(service))
            try await client.execute(uri: "/api/encode", method: .post, body: ByteBuffer(bytes: png)) { response in
                #expect(response.status == .ok, "\(message(response))")
                let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect((object["z"] as? [Double])?.count == latentSize && object["conversion"] is String)
            }
            try await client.execute(uri: "/api/encode", method: .post, body: ByteBuffer(string: "not a picture")) { response in
                #expect(response.status == .badRequest && message(response).contains("body:"), "\(message(response))")
            }
            try await client.execute(uri: "/api/encode", method: .post) { response in
                #expect(response.status == .badRequest && message(response).contains("empty"), "\(message(response))")
            }
            // A truncated PNG: the decoder's error, not a crash.
            try await client.execute(uri: "/api/encode", method: .post, body: ByteBuffer(bytes: png.prefix(png.count / 2))) { response in
                #expect(response.status == .badRequest, "\(message(response))")
            }
            let huge = ByteBuffer(repeating: 0, count: LatentSpaceService.maximumUploadBytes + 1)
            try await client.execute(uri: "/api/encode", method: .post, body: huge) { response in
                #expect(response.status == .contentTooLarge, "\(response.status)")
            }
            try await client.execute(uri: "/api/encode?label=1", method: .post, body: ByteBuffer(bytes: png)) { response in
                #expect(response.status == .badRequest && message(response).contains("unconditional"))
            }
            // 8192 x 8192 1-bit grey in 10 kB (enough bytes for its deflated rows): within the
            // decoder's general cap, over the upload's, so refused before 268 MB of RGBA exist.
            try await client.execute(uri: "/api/encode", method: .post, body: ByteBuffer(bytes: Self.largeDeclaredPNG())) { response in
                #expect(response.status == .badRequest && message(response).contains("8192x8192 pixels is not a usable size (at most 16777216 pixels)"),
                        "\(message(response))")
            }
        }
    }

    /// A PNG declaring 8192 x 8192 1-bit grey pixels, padded by a text chunk to 10 kB.
    static func largeDeclaredPNG() -> [UInt8] {
        func word(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8((value >> $0) & 0xFF) } }
        func crc(_ bytes: [UInt8]) -> UInt32 {  // CRC-32 (ISO 3309), bit by bit
            var value: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                value ^= UInt32(byte)
                for _ in 0..<8 { value = value & 1 != 0 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1 }
            }
            return ~value
        }
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            word(UInt32(body.count)) + Array(type.utf8) + body + word(crc(Array(type.utf8) + body))
        }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", word(8192) + word(8192) + [1, 0, 0, 0, 0])
            + chunk("tEXt", Array("Comment".utf8) + [0] + [UInt8](repeating: 65, count: 10_000))
            + chunk("IDAT", [0x78, 0x9C, 0x03, 0, 0, 0, 0, 1]) + chunk("IEND", [])
    }

    @Test func aConditionalModelNeedsALabelInRangeAndDrawsEachClassItsOwnWay() async throws {
        var configuration = MLPConfiguration(inputSize: 64, hiddenSizes: [16], latentSize: 2)
        configuration.conditionClasses = 3
        let (service, _) = try explorerService(.mlp(configuration))
        do {
            let client = RouterClient(ExplorerRoutes.router(service))
            let overview = try await client.execute(uri: "/api/model", method: .get) { Data(buffer: $0.body) }
            let object = try #require(try JSONSerialization.jsonObject(with: overview) as? [String: Any])
            #expect((object["condition"] as? [String: Any])?["classes"] as? Int == 3)
            for (query, expected) in [("z=0,0", "give a class 0...2"), ("z=0,0&label=3", "got '3'"), ("z=0,0&label=-1", "got '-1'"),
                                      ("z=0,0&label=one", "got 'one'")] {
                try await client.execute(uri: "/api/decode?" + query, method: .get) { response in
                    #expect(response.status == .badRequest && message(response).contains(expected), "\(query): \(message(response))")
                }
            }
            let first = try await client.execute(uri: "/api/decode?z=0,0&label=0", method: .get) { try levels($0.body) }
            let second = try await client.execute(uri: "/api/decode?z=0,0&label=2", method: .get) { try levels($0.body) }
            #expect(first != second)
        }
    }

    @Test func designBSwitchesItsTransformAndRendersAtAnySize() async throws {
        let specification = ModelSpecification.affine(AffineModelConfiguration(imageWidth: 8, imageHeight: 8, encoderHiddenSizes: [16], contentSize: 2,
                                                                               decoderHiddenSize: 8, classifierHiddenSize: 8, classes: 3))
        let (service, _) = try explorerService(specification)
        let latent = latentQuery([0.5, -0.5, 0.3, -0.2, 0.1, 0.4, -0.3, 0.2])
        do {
            let client = RouterClient(ExplorerRoutes.router(service))
            let on = try await client.execute(uri: "/api/decode?z=\(latent)&transform=on", method: .get) { try levels($0.body) }
            let off = try await client.execute(uri: "/api/decode?z=\(latent)&transform=off", method: .get) { try levels($0.body) }
            #expect(on.width == 8 && on != off)
            let large = try await client.execute(uri: "/api/decode?z=\(latent)&size=56", method: .get) { try levels($0.body) }
            #expect(large.width == 56 && large.height == 56)
            for (query, expected) in [("transform=sideways", "must be on or off"), ("size=7", "must be 8...256"), ("size=257", "must be 8...256"),
                                      ("size=big", "got 'big'")] {
                try await client.execute(uri: "/api/decode?z=\(latent)&\(query)", method: .get) { response in
                    #expect(response.status == .badRequest && message(response).contains(expected), "\(query): \(message(response))")
                }
            }
        }
    }

    @Test func requestsBeyondTheConcurrencyLimitAreRefusedAtOnce() async throws {
        let (service, _) = try explorerService(mlp)
        do {
            let client = RouterClient(ExplorerRoutes.router(service, concurrencyLimit: 0))
            try await client.execute(uri: "/api/model", method: .get) { response in
                #expect(response.status == .serviceUnavailable && message(response).contains("busy"))
            }
        }
    }
}

@Suite struct ExplorerConvolutionalTests {
    @Test func aConvolutionalModelDecodesRequestAfterRequest() async throws {
        var configuration = ConvolutionalModelConfiguration.digits
        configuration.imageShape = .grey(height: 8, width: 8)
        configuration.encoderConvolutions = [ConvolutionLayer(channels: 4, kernel: 3, stride: 2, padding: 1)]
        configuration.decoderConvolutions = [ConvolutionLayer(channels: 4, kernel: 3, stride: 2, padding: 1)]
        configuration.encoderDenseSizes = [8]
        configuration.decoderDenseSizes = [8]
        configuration.decoderChannels = 4
        configuration.latentSize = 2
        let (service, _) = try explorerService(.convolutional(configuration))
        do {
            let client = RouterClient(ExplorerRoutes.router(service))
            for step in 0..<6 {
                try await client.execute(uri: "/api/decode?z=\(Float(step) * 0.3),-0.5", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }
}

