import Datasets
import Foundation
import NN
import Runs
import TensorCore
import VAE
import Visualization

/// What `vae explore` serves about a run whose latent is a grid of codes (a VQ-VAE,
/// `DiscreteLatentModel`): test images and their code grids, the picture decoded from any grid a
/// person edits one cell at a time, and grids drawn from the run's code prior when it has one.
/// Every input is validated here (`ExplorerRequestError`); the model and the prior are used by one
/// request at a time (a lock).
public final class CodeGridService: @unchecked Sendable {
    let loaded: LoadedModel
    let model: any DiscreteLatentModel
    let test: ImageDataset
    /// The run's code prior (a gated PixelCNN), if one was trained.
    let prior: GatedPixelCNN?
    /// Facts about the run the page needs, as JSON.
    public let overview: Data
    private let lock = NSLock()
    private let uploadSlots = DispatchSemaphore(value: LatentSpaceService.concurrentUploads)

    /// A service for `loaded` (whose model must be a `DiscreteLatentModel`) over `test` (at most
    /// `maximumImages` of it), drawing grids from `prior` when given.
    public init(loaded: LoadedModel, test: ImageDataset, maximumImages: Int = 10_000, prior: GatedPixelCNN? = nil) throws(ExplorerRequestError) {
        guard let model = loaded.model as? any DiscreteLatentModel else {
            throw ExplorerRequestError(parameter: "run", problem: "its latent is not a grid of codes")
        }
        let test = test.prefix(maximumImages)
        guard test.shape == model.imageShape else {
            throw ExplorerRequestError(parameter: "dataset", problem: "the test images are \(test.shape), the model draws \(model.imageShape)")
        }
        if let prior {
            let network = prior.configuration
            guard network.codes == model.codebookSize, network.height == model.codeGrid.height, network.width == model.codeGrid.width else {
                throw ExplorerRequestError(parameter: "prior", problem: "it models \(network.height)x\(network.width) grids of \(network.codes) codes; the model has \(model.codeGrid.height)x\(model.codeGrid.width) grids of \(model.codebookSize)")
            }
        }
        (self.loaded, self.model, self.test, self.prior) = (loaded, model, test, prior)
        var object: [String: Any] = [
            "kind": loaded.configuration.model.kind,
            "architecture": loaded.configuration.model.architectureName,
            "run": loaded.run?.url.lastPathComponent ?? loaded.modelFile.lastPathComponent,
            "image": ["channels": model.imageShape.channels, "height": model.imageShape.height, "width": model.imageShape.width],
            "grid": ["height": model.codeGrid.height, "width": model.codeGrid.width, "dimension": model.codeGrid.channels],
            "codebookSize": model.codebookSize,
            "testCount": test.count,
            "classNames": test.isLabelled ? test.classNames : [],
        ]
        if let prior {
            var description: [String: Any] = ["layers": prior.configuration.layers, "channels": prior.configuration.channels]
            if let classes = prior.configuration.classes { description["classes"] = classes }
            object["prior"] = description
        }
        overview = LatentSpaceService.json(object)
    }

    // MARK: - Validation

    /// A grid of code indices from its text ("3,17,0,…"): exactly h · w whole numbers, each in
    /// 0..<K. A number outside the codebook is named with its cell.
    public func codes(_ text: String?) throws(ExplorerRequestError) -> [Int32] {
        let (positions, size, width) = (model.codePositions, model.codebookSize, model.codeGrid.width)
        guard let text, !text.isEmpty else {
            throw ExplorerRequestError(parameter: "codes", problem: "missing: give \(positions) comma-separated code indices (\(model.codeGrid.height)x\(width), row by row)")
        }
        guard text.utf8.count <= positions * 12 else { throw ExplorerRequestError(parameter: "codes", problem: "too long for \(positions) indices") }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == positions else {
            throw ExplorerRequestError(parameter: "codes", problem: "the grid has \(positions) cells (\(model.codeGrid.height)x\(width)), got \(parts.count) indices")
        }
        var values: [Int32] = []
        values.reserveCapacity(positions)
        for (index, part) in parts.enumerated() {
            let cell = "cell (\(index / width), \(index % width))"
            guard let value = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw ExplorerRequestError(parameter: "codes", problem: "\(cell) is not a whole number: '\(part.prefix(20))'")
            }
            guard (0..<size).contains(value) else {
                throw ExplorerRequestError(parameter: "codes", problem: "\(cell) is \(value), outside the codebook: each index must be 0...\(size - 1)")
            }
            values.append(Int32(value))
        }
        return values
    }

    /// A test image's index, 0..<testCount.
    public func testIndex(_ text: String?) throws(ExplorerRequestError) -> Int { try LatentSpaceService.testIndex(text, count: test.count) }

    /// The class a conditional prior draws: required for one (0..<classes), refused otherwise;
    /// nil without a prior (the draw itself is then refused).
    public func priorLabel(_ text: String?) throws(ExplorerRequestError) -> Int? {
        guard let classes = prior?.configuration.classes else {
            guard text == nil || text == "" else { throw ExplorerRequestError(parameter: "label", problem: "the run's code prior is unconditional: it takes no label") }
            return nil
        }
        guard let text, let value = Int(text), (0..<classes).contains(value) else {
            throw ExplorerRequestError(parameter: "label", problem: "the run's code prior is conditional: give a class 0...\(classes - 1), got '\((text ?? "nothing").prefix(20))'")
        }
        return value
    }

    // MARK: - Work

    /// The picture decoded from one grid of code indices, as PNG bytes.
    public func decodePNG(_ codes: [Int32]) -> Data {
        let values = lock.withLock { withoutGradients { model.decode(codes: codes, count: 1).mean.scalars } }
        return LatentSpaceService.png(Picture(values: values, shape: model.imageShape))
    }

    /// Test image `index`'s code grid and label, as JSON: {"index", "label", "codes"}.
    public func testCodes(_ index: Int) -> Data {
        let codes = lock.withLock { model.codes(Tensor(shape: [1, test.shape.count], scalars: Array(test.image(index)))) }
        let object: [String: Any] = ["index": index, "label": test.isLabelled ? test.labels[index] : NSNull(), "codes": codes.map(Int.init)]
        return LatentSpaceService.json(object)
    }

    /// Test image `index` as PNG bytes.
    public func testImagePNG(_ index: Int) -> Data { LatentSpaceService.png(Picture(values: Array(test.image(index)), shape: test.shape)) }

    /// One grid drawn from the run's code prior with `seed` (of class `label` for a conditional
    /// prior), as JSON {"codes"}; refused when the run has no prior.
    public func draw(seed: UInt64, label: Int?) throws(ExplorerRequestError) -> Data {
        guard let prior else {
            throw ExplorerRequestError(parameter: "prior", problem: "the run has no code prior: fit one with `vae train-prior RUN`, then restart the explorer")
        }
        var generator = RandomGenerator(seed: seed)
        let codes = lock.withLock { prior.sample(count: 1, labels: label.map { [$0] }, using: &generator) }
        return LatentSpaceService.json(["codes": codes.map(Int.init)])
    }

    /// A person's PNG or JPEG picture converted to the model's input, and its code grid, as JSON:
    /// {"codes", "conversion"}.
    public func encodeUpload(_ data: Data) throws(ExplorerRequestError) -> Data {
        let imported = try LatentSpaceService.importUpload(data, for: loaded, slots: uploadSlots)
        let codes = lock.withLock { model.codes(Tensor(shape: [1, model.imageShape.count], scalars: imported.values)) }
        return LatentSpaceService.json(["codes": codes.map(Int.init), "conversion": imported.description])
    }
}
