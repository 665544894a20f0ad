import ArgumentParser
import Foundation
import LatentTools
import NN
import Runs
import TensorCore
import VAE
import VAEEvaluation
import Visualization

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A grid of new images decoded from z ~ N(0, I), or from a sampler fitted to the training set's codes.",
        discussion: """
        Each cell decodes z = T eps with eps ~ N(0, I) (seeded): T = 1 samples the prior, T < 1 stays nearer its \
        mode (clearer, less varied images). --sampler gmm draws from a Gaussian mixture fitted to the training set's \
        posterior means, --sampler two-stage from a second VAE trained on them (Dai & Wipf 2019); each is fitted \
        once and saved in the run folder. `vae score` measures how much either helps.

        A conditional model (trained with --conditional) draws images of class --label; without --label it draws the \
        class grid: one row per class, one column per shared z (--columns of them), so each column is one style written \
        as every class. --classifier FILE (written by `vae classify`) reports the share of the samples it assigns to \
        the class they were drawn for (per class for the grid, over --judge draws per class).

        Examples: vae sample runs/pytorch-example --count 64 --temperature 0.8 --out samples.png
                  vae sample runs/conv-mnist --sampler gmm --out samples-gmm.png
                  vae sample runs/cvae-conv --label 3 --classifier runs/classifier.safetensors

        A VQ-VAE draws its code grids from its PixelCNN prior (`vae train-prior`); --codes FILE decodes the grids of a \
        table written by `vae encode` instead (edit a cell to see what one code changes).
        """)

    @OptionGroup var model: ModelArguments
    @OptionGroup(title: "Sampler") var samplers: SamplerOptions
    @Option(parsing: .unconditional, help: "How many images.") var count = 64
    @Option(name: .customLong("columns"), parsing: .unconditional, help: "Images per row (default: 8 for a class grid; else near 8, dividing the count so that every row is full).")
    var columnsGiven: Int?

    /// A class grid's columns: the draws per class.
    var columns: Int { columnsGiven ?? 8 }

    /// Columns for a grid of `count` images: as given, or near 8 with every row full.
    func gridColumns(for count: Int) -> Int { columnsGiven.map { min($0, count) } ?? ImageGrid.balancedColumns(count: count, preferred: 8) }
    @Option(parsing: .unconditional, help: "Temperature T > 0: z = T eps (for a hierarchical model's drawn lower groups too).") var temperature: Float = 1
    @Option(help: "A hierarchical model's groups below the top: means (each at its prior's mean given the groups above) or drawn (from its prior at the temperature).")
    var lowerGroups: LowerGroupChoice = .means
    @Option(parsing: .unconditional, help: "Enlarge each pixel this many times.") var scale = 2
    @Option(parsing: .unconditional, help: "Seed for the draws.") var seed: UInt64 = 1
    @Option(help: "The PNG file to write (default: samples.png in the run folder).") var out: String?
    @Option(parsing: .unconditional, help: "A conditional model's class to draw (default: a grid of every class).") var label: Int?
    @Option(help: "A classifier written by `vae classify`: report the share of samples it assigns to their class.") var classifier: String?
    @Option(parsing: .unconditional, help: "Samples per class the classifier judges.") var judge = 1000
    @Flag(help: "Draw a VampPrior's learned pseudo-inputs (the first --count of them) instead of samples.") var pseudoInputs = false
    @Option(help: "A VQ-VAE: decode the code grids of this CSV file (as `vae encode` writes them, edited or not) instead of drawing them from the prior.")
    var codes: String?

    func validate() throws {
        guard (1...10_000).contains(count) else { throw ValidationError("--count must be 1...10000, got \(count)") }
        if let columnsGiven, columnsGiven < 1 { throw ValidationError("--columns must be at least 1, got \(columnsGiven)") }
        guard temperature > 0, temperature.isFinite else { throw ValidationError("--temperature must be a number > 0, got \(temperature)") }
        guard (1...16).contains(scale) else { throw ValidationError("--scale must be 1...16, got \(scale)") }
        guard (1...100_000).contains(judge) else { throw ValidationError("--judge must be 1...100000, got \(judge)") }
    }

    func run() throws {
        if pseudoInputs { return try drawPseudoInputs() }
        var (loaded, explorer) = try model.load()
        if let discrete = loaded.model as? any DiscreteLatentModel { return try sampleCodes(discrete, loaded: loaded, explorer: explorer) }
        if codes != nil { throw CommandFailure("--codes decodes a VQ-VAE's code grids; \(model.run) has a continuous latent") }
        try explorer.setLabel(model.checkedLabel(label, for: loaded, required: false))
        let judge = try classifier.map { try loadClassifier($0, for: loaded) }
        let url = try outputFile(out, default: loaded.defaultOutput("samples.png"), extensions: ["png"])
        let sampler = try samplers.sampler(for: loaded, arguments: model) { print($0) }
        var generator = RandomGenerator(seed: seed)
        let learnedPrior = (loaded.model as? any LearnedPriorHolder)?.learnedPrior
        let distribution = samplers.sampler == .prior && learnedPrior == nil ? "z ~ N(0, \(temperature == 1 ? "I" : "\(temperature)^2 I"))"
            : "z from \(learnedPrior.map { "the model's \($0.settings) prior" } ?? samplers.sampler.summary)\(temperature == 1 ? "" : " at T = \(temperature)")"
        if case let .classes(classes) = loaded.model.condition, explorer.label == nil {
            let grid = explorer.classSampleGrid(from: sampler, columns: columns, temperature: temperature, scale: scale, using: &generator)
            try write(grid, to: url)
            print("\(classes) rows (one per class) of \(columns) images; each column decodes one \(distribution), seed \(seed)")
        } else if lowerGroups == .drawn {
            let latents = sampler.latents(count: count, temperature: temperature, using: &generator)
            let images = try lowerGroups.decode(latents, model: loaded.model, labels: [], temperature: temperature, seed: seed, run: model.run)
            try write(explorer.grid(explorer.split(images), columns: gridColumns(for: count), scale: scale), to: url)
            print("\(count) images decoded from \(distribution)\(lowerGroups.phrase(for: loaded.model))\(temperature == 1 ? "" : " at T = \(temperature)"), seed \(seed)")
        } else {
            let grid = explorer.sampleGrid(from: sampler, count: count, temperature: temperature, columns: gridColumns(for: count), scale: scale, using: &generator)
            try write(grid, to: url)
            print("\(count) images decoded from \(distribution)\(lowerGroups.phrase(for: loaded.model))\(explorer.label.map { " with label \(model.className($0, for: loaded))" } ?? ""), seed \(seed)")
        }
        if let judge { try report(judge, loaded: loaded, explorer: explorer, sampler: sampler) }
    }

    /// The classifier's verdict on `judge` fresh draws per class (drawn with seed + 1).
    func report(_ classifier: ImageClassifier, loaded: LoadedModel, explorer: LatentExplorer, sampler: any LatentSampler) throws {
        guard case let .classes(classes) = loaded.model.condition else {
            throw CommandFailure("--classifier judges a conditional model's samples by their class; \(model.run) is unconditional")
        }
        var generator = RandomGenerator(seed: seed &+ 1)
        let labels = explorer.label.map { [$0] } ?? Array(0..<classes)
        print("classifier: share of \(self.judge) samples per class assigned to the class they were drawn for")
        var shares: [Double] = []
        for label in labels {
            let images = loaded.model.decode(latents: sampler.latents(count: self.judge, temperature: temperature, using: &generator),
                                             labels: Array(repeating: label, count: self.judge))
            let predicted = classifier.predict(images: images)
            let share = Double(predicted.filter { $0 == label }.count) / Double(self.judge)
            shares.append(share)
            print(String(format: "  class %@: %.1f%%", model.className(label, for: loaded), 100 * share))
        }
        if shares.count > 1 {
            print(String(format: "  lowest %.1f%%, mean %.1f%%", 100 * shares.min()!, 100 * shares.reduce(0, +) / Double(shares.count)))
        }
    }

    /// The grids of a code table (`CodeGridTable`), decoded into a picture grid of --columns.
    func decodeTable(_ path: String, _ discrete: any DiscreteLatentModel, loaded: LoadedModel, explorer: LatentExplorer) throws {
        if label != nil || classifier != nil || temperature != 1 {
            throw CommandFailure("--label, --classifier and --temperature choose draws from the prior; --codes decodes the grids it is given")
        }
        let table: CodeGridTable
        do { table = try CodeGridTable.read(from: URL(fileURLWithPath: path), positions: discrete.codePositions, codebookSize: discrete.codebookSize) } catch {
            throw CommandFailure(error.localizedDescription)
        }
        let url = try outputFile(out, default: loaded.defaultOutput("decoded-codes.png"), extensions: ["png"])
        let positions = discrete.codePositions
        let images = stride(from: 0, to: table.count, by: 500).flatMap { start in
            let grids = min(500, table.count - start)
            return withoutGradients { discrete.decode(codes: Array(table.codes[(start * positions)..<((start + grids) * positions)]), count: grids).mean.scalars }
        }
        try write(explorer.grid(explorer.split(images), columns: gridColumns(for: table.count), scale: scale), to: url)
        print("\(table.count) images decoded from the code grids of \(path)")
    }

    /// A VQ-VAE's samples: code grids drawn from its PixelCNN prior (`vae train-prior`), decoded;
    /// for a conditional prior, of class --label or one row per class.
    func sampleCodes(_ discrete: any DiscreteLatentModel, loaded: LoadedModel, explorer: LatentExplorer) throws {
        if samplers.sampler != .prior || lowerGroups != .means {
            throw CommandFailure("a VQ-VAE draws its codes from its PixelCNN prior; --sampler and --lower-groups do not apply to \(model.run)")
        }
        if let codes { return try decodeTable(codes, discrete, loaded: loaded, explorer: explorer) }
        let prior = try codePrior(of: discrete, loaded: loaded, run: model.run)
        let classes = prior.settings.network.classes
        if label != nil, classes == nil { throw CommandFailure("--label needs a conditional prior; \(model.run)'s was trained without --conditional (train one with `vae train-prior --conditional`)") }
        if let label, let classes, !(0..<classes).contains(label) { throw CommandFailure("--label must be 0...\(classes - 1), got \(label)") }
        let url = try outputFile(out, default: loaded.defaultOutput("samples.png"), extensions: ["png"])
        var generator = RandomGenerator(seed: seed)
        let labels: [Int]? = classes.map { classes in label.map { Array(repeating: $0, count: count) } ?? (0..<classes).flatMap { Array(repeating: $0, count: columns) } }
        let drawn = labels?.count ?? count
        let codes = prior.network.sample(count: drawn, labels: labels, temperature: temperature, using: &generator)
        let images = withoutGradients { discrete.decode(codes: codes, count: drawn).mean.scalars }
        try write(explorer.grid(explorer.split(images), columns: classes != nil && label == nil ? columns : gridColumns(for: drawn), scale: scale), to: url)
        let temperatureText = temperature == 1 ? "" : " at T = \(temperature)"
        if let classes, label == nil {
            print("\(classes) rows (one per class) of \(columns) images, codes drawn from the PixelCNN prior\(temperatureText), seed \(seed)")
        } else {
            print("\(drawn) images decoded from codes drawn from the PixelCNN prior\(label.map { " given class \(model.className($0, for: loaded))" } ?? "")\(temperatureText), seed \(seed)")
        }
        if let classifier {
            guard let classes else { throw CommandFailure("--classifier judges samples by their class; \(model.run)'s prior is unconditional") }
            let judge = try loadClassifier(classifier, for: loaded, classes: classes)
            var generator = RandomGenerator(seed: seed &+ 1)
            print("classifier: share of \(self.judge) samples per class assigned to the class they were drawn for")
            var shares: [Double] = []
            for label in self.label.map({ [$0] }) ?? Array(0..<classes) {
                let codes = prior.network.sample(count: self.judge, labels: Array(repeating: label, count: self.judge), temperature: temperature, using: &generator)
                let images = withoutGradients { discrete.decode(codes: codes, count: self.judge).mean.scalars }
                let share = Double(judge.predict(images: images).filter { $0 == label }.count) / Double(self.judge)
                shares.append(share)
                print(String(format: "  class %@: %.1f%%", model.className(label, for: loaded), 100 * share))
            }
            if shares.count > 1 {
                print(String(format: "  lowest %.1f%%, mean %.1f%%", 100 * shares.min()!, 100 * shares.reduce(0, +) / Double(shares.count)))
            }
        }
    }

    /// The VampPrior's pseudo-inputs u_k (clamped to [0, 1]) as a grid.
    func drawPseudoInputs() throws {
        let (loaded, explorer) = try model.load()
        let learnedPrior = (loaded.model as? any LearnedPriorHolder)?.learnedPrior
        guard let prior = learnedPrior, let images = prior.pseudoImages else {
            throw CommandFailure("--pseudo-inputs draws a VampPrior's pseudo-inputs; \(model.run) has \(learnedPrior.map { "a \($0.settings) prior" } ?? "the prior N(0, I)")")
        }
        let shown = min(count, prior.settings.components)
        let values = withoutGradients { Array(images.scalars.prefix(shown * loaded.model.inputSize)) }
        let url = try outputFile(out, default: loaded.defaultOutput("pseudo-inputs.png"), extensions: ["png"])
        try write(explorer.grid(explorer.split(values), columns: gridColumns(for: shown), scale: scale), to: url)
        print("\(shown) of the \(prior.settings.components) pseudo-inputs of the VampPrior")
    }

    func loadClassifier(_ path: String, for loaded: LoadedModel, classes: Int? = nil) throws -> ImageClassifier {
        let classifier: ImageClassifier
        do { classifier = try ImageClassifier.load(from: URL(fileURLWithPath: path)).classifier } catch { throw CommandFailure(error.description) }
        guard classifier.imageShape == loaded.model.imageShape else {
            throw CommandFailure("\(path) classifies \(classifier.imageShape) images; the model draws \(loaded.model.imageShape)")
        }
        let expected = classes ?? loaded.model.condition.classCount
        guard classifier.classCount == expected else {
            throw CommandFailure("\(path) knows \(classifier.classCount) classes; the model is conditioned on \(expected)")
        }
        return classifier
    }
}

/// The code prior `vae train-prior` fitted in a VQ-VAE's run folder, checked against the model;
/// the error names `vae train-prior` when there is none.
func codePrior(of discrete: any DiscreteLatentModel, loaded: LoadedModel, run: String) throws -> (network: GatedPixelCNN, settings: CodePriorSettings) {
    guard let prior = try existingCodePrior(of: discrete, loaded: loaded, run: run) else {
        throw CommandFailure("\(run) is a VQ-VAE without a code prior: fit one first with `vae train-prior \(run)` (add --conditional to draw chosen classes)")
    }
    return prior
}

/// The run's code prior when it has one (nil when its folder holds no prior file), checked as `codePrior` checks it.
func existingCodePrior(of discrete: any DiscreteLatentModel, loaded: LoadedModel, run: String) throws -> (network: GatedPixelCNN, settings: CodePriorSettings)? {
    guard let folder = loaded.run, FileManager.default.fileExists(atPath: folder.url.appendingPathComponent(CodePriorTraining.modelFile).path) else {
        return nil
    }
    let prior: (network: GatedPixelCNN, settings: CodePriorSettings)
    do { prior = try CodePriorTraining.load(from: folder.url) } catch { throw CommandFailure(error.localizedDescription) }
    guard prior.settings.network.codes == discrete.codebookSize, prior.settings.network.height == discrete.codeGrid.height,
          prior.settings.network.width == discrete.codeGrid.width else {
        throw CommandFailure("\(folder.url.appendingPathComponent(CodePriorTraining.modelFile).path) models \(prior.settings.network.height)x\(prior.settings.network.width) grids of \(prior.settings.network.codes) codes; the run's model has \(discrete.codeGrid.height)x\(discrete.codeGrid.width) grids of \(discrete.codebookSize)")
    }
    return prior
}

/// What `vae sample` and `vae score` give a hierarchical model's groups below the top.
enum LowerGroupChoice: String, CaseIterable, ExpressibleByArgument {
    /// Each at its prior's mean given the groups above.
    case means
    /// Each drawn from its prior at the temperature.
    case drawn

    /// Top-group codes decoded to mean images with the lower groups as chosen (drawn with noise
    /// seeded `seed` + 2); refuses `drawn` for a model of a single group.
    func decode(_ latents: [Float], model: any VariationalModel, labels: [Int], temperature: Float, seed: UInt64, run: String) throws -> [Float] {
        guard self == .drawn else { return model.decode(latents: latents, labels: labels) }
        let hierarchical = try hierarchicalModel(model, option: "--lower-groups drawn", run: run)
        return hierarchical.decode(latents: latents, lowerGroups: .drawn(temperature: temperature, noise: NoiseSource(generator: RandomGenerator(seed: seed &+ 2))))
    }

    /// How the lower groups were taken, for the console ("" for a model of a single group).
    func phrase(for model: any VariationalModel) -> String {
        guard model is any LowerGroupDecoding else { return "" }
        return self == .drawn ? ", the lower groups drawn from their priors" : ", the lower groups at their prior means"
    }
}

/// `model` as a model with groups below the top, or a refusal naming `option` and `run`.
func hierarchicalModel(_ model: any VariationalModel, option: String, run: String) throws -> any LowerGroupDecoding {
    guard let hierarchical = model as? any LowerGroupDecoding else {
        throw CommandFailure("\(option) applies to a model with latent groups below the top (a hierarchical kind); \(run) has a single latent group (\(model.specification.kindDescription))")
    }
    return hierarchical
}
