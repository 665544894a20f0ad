import Datasets
import Foundation
import LatentTools
import Runs
import Synchronization
import TensorCore
import VAE
import Visualization

/// A request the page made that cannot be served as asked: the parameter and what was expected.
/// The server answers it with status 400 and this message.
public struct ExplorerRequestError: Error, LocalizedError, Equatable, Sendable, CustomStringConvertible {
    /// The parameter at fault.
    public let parameter: String
    /// What is wrong and what was expected.
    public let problem: String
    /// "PARAMETER: PROBLEM".
    public var description: String { "\(parameter): \(problem)" }
    /// The same as `description`.
    public var errorDescription: String? { description }
}

/// What `vae explore` serves about one run: its model, the test set's latent means (for the
/// scatter plot, the KL order of the dimensions and picked starting points), and the decoding of
/// latent vectors into pictures. Every input is validated here (`ExplorerRequestError`), so the
/// routes stay thin. The model is used by one request at a time (a lock), so any number of
/// concurrent requests is safe; a decode of the MLP preset takes well under a millisecond.
public final class LatentSpaceService: @unchecked Sendable {
    /// The largest |z_d| accepted: far outside any prior or posterior mass, inside Float's range.
    public static let latentLimit: Float = 20
    /// The sizes a model that renders at other sizes may be drawn at here, in pixels per side.
    public static let renderSizes = 8...256
    /// The largest picture upload accepted, in bytes.
    public static let maximumUploadBytes = 4 << 20
    /// The most pixels an uploaded picture may declare (4096 x 4096): it ends as the model's
    /// small image, so a larger one is refused before its pixels are allocated.
    public static let maximumUploadPixels = 1 << 24
    /// Uploads decoded at once; more wait their turn, so decoding holds at most this many
    /// pictures' memory (each at most 4 · maximumUploadPixels bytes of RGBA, 64 MB).
    public static let concurrentUploads = 2
    private let uploadSlots = DispatchSemaphore(value: LatentSpaceService.concurrentUploads)
    /// The most test images shown in the scatter plot (the page stays light).
    public static let maximumScatterPoints = 2000

    let loaded: LoadedModel
    /// The test images (up to `maximumImages`) and their latent means.
    let test: ImageDataset
    let codes: LatentCodes
    /// Facts about the run the page needs, as JSON.
    public let overview: Data
    /// Serialises the model's use: its layers keep per-call scratch state.
    private let lock = Mutex(())
    /// Where "random z" draws from: the prior, or a sampler fitted to the training set's codes.
    let sampler: any LatentSampler

    /// A service for `loaded`, encoding `test` (at most `maximumImages` of it) once to order the
    /// dimensions by KL and place the scatter plot's points; "random z" draws from `sampler`
    /// (named `samplerName` on the page), the prior when nil.
    public init(loaded: LoadedModel, test: ImageDataset, maximumImages: Int = 10_000, sampler: (any LatentSampler)? = nil,
                samplerName: String = SamplerKind.prior.rawValue) throws(ExplorerRequestError) {
        let model = loaded.model
        let test = test.prefix(maximumImages)
        guard test.shape == model.imageShape else {
            throw ExplorerRequestError(parameter: "dataset", problem: "the test images are \(test.shape), the model draws \(model.imageShape)")
        }
        if model.condition != .none, !test.isLabelled {
            throw ExplorerRequestError(parameter: "dataset", problem: "the model is conditional, but the test images have no labels to encode them with")
        }
        if let sampler, sampler.latentSize != model.latentSize {
            throw ExplorerRequestError(parameter: "sampler", problem: "it draws \(sampler.latentSize)-d codes; the model's latent space has \(model.latentSize) dimensions")
        }
        self.loaded = loaded
        self.test = test
        self.sampler = sampler ?? PriorSampler(model: model)
        codes = withoutGradients { model.encode(images: test.pixels, labels: test.labels) }
        overview = Self.makeOverview(loaded: loaded, test: test, codes: codes, samplerName: samplerName)
    }

    /// The JSON the page starts from (see `ExplorerRoutes` for its fields).
    static func makeOverview(loaded: LoadedModel, test: ImageDataset, codes: LatentCodes, samplerName: String) -> Data {
        let model = loaded.model, size = model.latentSize
        let kl = codes.klPerDimension
        let shown = min(test.count, maximumScatterPoints)
        var xs: [Double] = [], ys: [Double] = [], projection: String
        if size == 1 {
            xs = (0..<shown).map { Double(codes.means[$0]) }
            ys = [Double](repeating: 0, count: shown)
            projection = "z0"
        } else if size == 2 {
            xs = (0..<shown).map { Double(codes.means[$0 * 2]) }
            ys = (0..<shown).map { Double(codes.means[$0 * 2 + 1]) }
            projection = "z0, z1"
        } else {
            let pca = PrincipalComponents(rows: codes.means, dimension: size)
            let plane = pca.project(Array(codes.means.prefix(shown * size)), components: 2)
            (xs, ys) = (plane[0], plane[1])
            let ratios = pca.explainedVarianceRatios
            projection = String(format: "PCA of the %d-d means (PC1 %.0f%%, PC2 %.0f%% of variance)", size, 100 * ratios[0], 100 * ratios[1])
        }
        let classNames = test.isLabelled ? test.classNames : []
        var object: [String: Any] = [
            "kind": loaded.configuration.model.kind,
            "architecture": loaded.configuration.model.architectureName,
            "run": loaded.run?.url.lastPathComponent ?? loaded.modelFile.lastPathComponent,
            "latentSize": size,
            "image": ["channels": model.imageShape.channels, "height": model.imageShape.height, "width": model.imageShape.width],
            "order": LatentExplorer.informativeOrder(klPerDimension: kl),
            "kl": kl.map { ($0 * 1000).rounded() / 1000 },
            "latentLimit": Double(latentLimit),
            "sampler": samplerName,
            "testCount": test.count,
            "classNames": classNames,
            "scatter": [
                "projection": projection,
                // The latent dimensions on the scatter plot's x and y when it shows them as they are
                // (a model of one or two), so the pad is drawn with the same axes; none for a PCA.
                "axes": size <= 2 ? Array(0..<size) : [],
                "points": (0..<shown).map { [($0 < xs.count ? (xs[$0] * 1000).rounded() / 1000 : 0), (ys[$0] * 1000).rounded() / 1000,
                                             test.isLabelled ? Double(test.labels[$0]) : 0] },
            ] as [String: Any],
        ]
        if case let .classes(count) = model.condition {
            let names = loaded.classNames.flatMap { $0.count == count ? $0 : nil } ?? (classNames.count == count ? classNames : (0..<count).map(String.init))
            object["condition"] = ["classes": count, "names": names] as [String: Any]
        }
        if let rendering = model.rendering {
            let sizes = Self.renderSizes.clamped(to: rendering.sizes)
            object["rendering"] = ["trainingSize": rendering.trainingSize.width, "sizes": [sizes.lowerBound, sizes.upperBound],
                                   "switchableTransform": rendering.hasSwitchableTransform] as [String: Any]
        }
        return json(object)
    }

    // MARK: - Validation

    /// A latent vector from its text ("0.5,-1,2"): exactly `latentSize` finite numbers within
    /// ±`latentLimit`.
    public func latent(_ text: String?) throws(ExplorerRequestError) -> [Float] {
        let size = loaded.model.latentSize
        guard let text, !text.isEmpty else { throw ExplorerRequestError(parameter: "z", problem: "missing: give \(size) comma-separated numbers") }
        guard text.utf8.count <= size * 32 else { throw ExplorerRequestError(parameter: "z", problem: "too long for \(size) numbers") }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == size else {
            throw ExplorerRequestError(parameter: "z", problem: "the model's latent space has \(size) dimensions, got \(parts.count) numbers")
        }
        var values: [Float] = []
        values.reserveCapacity(size)
        for (index, part) in parts.enumerated() {
            guard let value = Float(part.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                throw ExplorerRequestError(parameter: "z", problem: "value \(index) is not a finite number: '\(part.prefix(40))'")
            }
            guard abs(value) <= Self.latentLimit else {
                throw ExplorerRequestError(parameter: "z", problem: "value \(index) is \(value); each must lie in -\(Self.latentLimit)...\(Self.latentLimit)")
            }
            values.append(value)
        }
        return values
    }

    /// The class to decode with: required for a conditional model (0..<K), refused for an
    /// unconditional one.
    public func label(_ text: String?) throws(ExplorerRequestError) -> Int? {
        switch loaded.model.condition {
        case .none:
            guard text == nil || text == "" else { throw ExplorerRequestError(parameter: "label", problem: "the model is unconditional: it takes no label") }
            return nil
        case let .classes(count):
            guard let text, !text.isEmpty else { throw ExplorerRequestError(parameter: "label", problem: "the model is conditional: give a class 0...\(count - 1)") }
            guard let value = Int(text), (0..<count).contains(value) else {
                throw ExplorerRequestError(parameter: "label", problem: "must be a class 0...\(count - 1), got '\(text.prefix(20))'")
            }
            return value
        }
    }

    /// A draw's seed: a whole number 0...2⁵³.
    public func seed(_ text: String?) throws(ExplorerRequestError) -> UInt64 { try Self.seed(text) }

    /// A draw's seed: a whole number 0...2⁵³.
    public static func seed(_ text: String?) throws(ExplorerRequestError) -> UInt64 {
        guard let text, let value = UInt64(text), value <= 1 << 53 else {
            throw ExplorerRequestError(parameter: "seed", problem: "must be a whole number 0...\(UInt64(1) << 53), got '\((text ?? "nothing").prefix(20))'")
        }
        return value
    }

    /// A test image's index, 0..<testCount.
    public func testIndex(_ text: String?) throws(ExplorerRequestError) -> Int { try Self.testIndex(text, count: test.count) }

    /// A test image's index from its text, 0..<count.
    static func testIndex(_ text: String?, count: Int) throws(ExplorerRequestError) -> Int {
        guard let text, let index = Int(text), (0..<count).contains(index) else {
            throw ExplorerRequestError(parameter: "index", problem: "must be a test image 0...\(count - 1), got '\((text ?? "nothing").prefix(20))'")
        }
        return index
    }

    /// The rendering choices of a model that has them (`VariationalModel.rendering`): a learned
    /// transform on or off, and a size per side; refused for a model without (its decoder renders
    /// at its training size only).
    public func rendering(transform: String?, size: String?) throws(ExplorerRequestError) -> (transformOn: Bool, size: Int?) {
        let rendering = loaded.model.rendering
        var transformOn = true
        if let transform, !transform.isEmpty {
            guard rendering?.hasSwitchableTransform == true else {
                throw ExplorerRequestError(parameter: "transform", problem: "the model has no transform to switch (only a model with a learned transform, such as the affine kind, has one)")
            }
            switch transform {
            case "on": transformOn = true
            case "off": transformOn = false
            default: throw ExplorerRequestError(parameter: "transform", problem: "must be on or off, got '\(transform.prefix(20))'")
            }
        }
        guard let size, !size.isEmpty else { return (transformOn, nil) }
        guard let rendering else { throw ExplorerRequestError(parameter: "size", problem: "the model renders at its training size only") }
        let sizes = Self.renderSizes.clamped(to: rendering.sizes)
        guard let value = Int(size), sizes.contains(value) else {
            throw ExplorerRequestError(parameter: "size", problem: "must be \(sizes.lowerBound)...\(sizes.upperBound) pixels, got '\(size.prefix(20))'")
        }
        return (transformOn, value)
    }

    // MARK: - Work

    /// One latent vector from the sampler, drawn with `seed` and clamped to ±`latentLimit`, as
    /// JSON {"z": [...]}.
    public func draw(seed: UInt64) -> Data {
        var generator = RandomGenerator(seed: seed)
        let z = lock.withLock { _ in sampler.latents(count: 1, temperature: 1, using: &generator) }
        return Self.json(["z": z.map { Double(min(max($0, -Self.latentLimit), Self.latentLimit)) }])
    }

    /// The picture decoded from `latent` (with `label` for a conditional model; with or without a
    /// learned transform, at `size` when given, for a model that can), as PNG bytes.
    public func decodePNG(_ latent: [Float], label: Int?, transformOn: Bool = true, size: Int? = nil) -> Data {
        let picture: Picture = lock.withLock { _ in
            withoutGradients {
                let model = loaded.model
                if let rendering = model.rendering, size != nil || !transformOn {
                    let (height, width) = size.map { ($0, $0) } ?? rendering.trainingSize
                    let values = rendering.render(latents: latent, height: height, width: width, transformOn: transformOn)
                    return Picture(values: values, shape: ImageShape(channels: model.imageShape.channels, height: height, width: width))
                }
                let values = model.decode(latents: latent, labels: label.map { [$0] } ?? [])
                return Picture(values: values, shape: model.imageShape)
            }
        }
        return Self.png(picture)
    }

    /// An uploaded PNG or JPEG picture (`data`, at most `maximumUploadBytes`) converted to
    /// `loaded`'s input, decoding at most `slots`' count of uploads at once.
    static func importUpload(_ data: Data, for loaded: LoadedModel, slots: DispatchSemaphore) throws(ExplorerRequestError) -> TransformedImage {
        guard !data.isEmpty else { throw ExplorerRequestError(parameter: "body", problem: "empty: send a PNG or JPEG picture") }
        guard data.count <= maximumUploadBytes else {
            throw ExplorerRequestError(parameter: "body", problem: "\(data.count) bytes; at most \(maximumUploadBytes) are accepted")
        }
        slots.wait()
        defer { slots.signal() }
        do { return try loaded.importPicture(data, path: "the upload", maximumPixels: maximumUploadPixels) } catch {
            throw ExplorerRequestError(parameter: "body", problem: error.localizedDescription)
        }
    }

    /// Test image `index` as PNG bytes.
    public func testImagePNG(_ index: Int) -> Data { Self.png(Picture(values: Array(test.image(index)), shape: test.shape)) }


    /// A picture's PNG bytes (encoding in memory cannot fail for a valid picture; empty if it did).
    static func png(_ picture: Picture) -> Data { (try? picture.pngData()) ?? Data() }

    /// A JSON object's bytes, keys sorted (its values are numbers, strings and arrays of them).
    static func json(_ object: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }

    /// Test image `index`'s latent mean and label, as JSON: {"index", "label", "z"}.
    public func testCode(_ index: Int) -> Data {
        let object: [String: Any] = ["index": index, "label": test.isLabelled ? test.labels[index] : NSNull(),
                                     "z": codes.mean(index).map(Double.init)]
        return Self.json(object)
    }

    /// A person's PNG or JPEG picture converted to the model's input and encoded (with `label`
    /// for a conditional model), as JSON: {"z": the posterior mean, "conversion": how}.
    public func encodeUpload(_ data: Data, label: Int?) throws(ExplorerRequestError) -> Data {
        let imported = try Self.importUpload(data, for: loaded, slots: uploadSlots)
        let mean: [Float] = lock.withLock { _ in
            withoutGradients { loaded.model.encode(images: imported.values, labels: label.map { [$0] } ?? []).mean(0) }
        }
        let object: [String: Any] = ["z": mean.map(Double.init), "conversion": imported.description]
        return Self.json(object)
    }
}
