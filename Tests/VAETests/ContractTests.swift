import Datasets
import Dispatch
import Foundation
import NN
import Optimizers
import SafeTensors
import TensorCore
import Testing
import VAE
import VAEEvaluation
import VAEModels

/// The open contract: models of several latent groups, objectives that plug in, kinds that
/// register from elsewhere, data-parallel training in threads, and the checkpoint's format.
@Suite struct ContractTests {
    /// Reading a specification needs its kind registered, as a program reading files does.
    init() { StandardModelKinds.register() }

    static let train = TrainerTests.train, test = TrainerTests.test

    /// With and without summing gradient buckets during the backward pass (`GradientBuckets`).
    @Test(arguments: [true, false])
    func aGroupOfThreadsTrainsTheModelOneProcessTrains(overlapping: Bool) throws {
        // Dynamic binarisation and an odd batch size: every shard's draws and sizes differ.
        try expectGroupTrainsAsOneProcess(TrainerTests.configuration(epochs: 2, binarization: .dynamic, batchSize: 33), overlapping: overlapping)
    }

    /// Free bits' floor applies to the whole batch's mean KL of each dimension, which no shard
    /// sees alone: a group of processes trains with it (one all-reduce of the dimensions' KLs a
    /// step) to the model one process trains. (A batch whose shards alone would open other
    /// dimensions than the whole: `freeBitsTermsOfShardsSumToTheWholeBatchs`.)
    @Test func aGroupOfThreadsTrainsWithFreeBitsAsOneProcessDoes() throws {
        var configuration = TrainerTests.configuration(epochs: 2, binarization: .dynamic, batchSize: 33)
        configuration.objective.freeBits = 0.6
        try expectGroupTrainsAsOneProcess(configuration, overlapping: true)
    }

    /// Two processes with half a batch each add free-bits terms and gradients that sum to one
    /// process's, though one shard alone would leave under the floor a dimension that the whole
    /// batch lifts above it.
    @Test func freeBitsTermsOfShardsSumToTheWholeBatchs() throws {
        // N(μ, 1) against N(0, I): KL_d = μ_d² / 2. Dimension 0: 2, 2 on rows 0-1 and 0.125,
        // 0.125 on rows 2-3, a mean of 1.0625 over λ = 0.8 (rows 2-3 alone: 0.125, under it);
        // dimension 1: 0.02 on every row, under λ.
        let means: [Float] = [2, 0.2, 2, 0.2, 0.5, 0.2, 0.5, 0.2]
        @Sendable func term(rows: Range<Int>, group: (any ProcessGroup)?) -> (value: Float, gradient: [Float]) {
            let mean = Tensor(shape: [rows.count, 2], scalars: Array(means[(rows.lowerBound * 2)..<(rows.upperBound * 2)]), requiresGradient: true)
            let posterior = DiagonalGaussian(mean: mean, logVariance: Tensor(shape: [rows.count, 2], scalars: [Float](repeating: 0, count: rows.count * 2)))
            let output = LatentGroupOutput(group: LatentGroup(name: "z", size: 2), posterior: posterior, prior: StandardNormal(dimension: 2), z: mean, noise: nil)
            let batch = Batch(images: Tensor(shape: [rows.count, 1], scalars: [Float](repeating: 0, count: rows.count)), batchRows: 4,
                              noise: NoiseSource(generator: RandomGenerator(seed: 1)), processGroup: group)
            let value = EvidenceLowerBound.freeBitsTerm(output, freeBits: 0.8, batch: batch)!
            value.backward()
            return (value.item, mean.gradient!)
        }
        let whole = term(rows: 0..<4, group: nil)
        #expect(abs(whole.value - (4 * 1.0625 + 4 * 0.8)) < 1e-5)  // dimension 0 open: its KL; dimension 1 closed: B λ
        #expect(whole.gradient == [2, 0, 2, 0, 0.5, 0, 0.5, 0])
        let members = LocalProcessGroup.make(size: 2)
        let parts = Parts()
        let done = DispatchSemaphore(value: 0)
        for rank in 0..<2 {
            Thread {
                parts.set(rank, term(rows: (rank * 2)..<(rank * 2 + 2), group: members[rank]))
                done.signal()
            }.start()
        }
        for _ in 0..<2 { done.wait() }
        let (first, second) = (parts.values[0]!, parts.values[1]!)
        #expect(abs(first.value + second.value - whole.value) < 1e-5, "\(first.value) + \(second.value) against \(whole.value)")
        #expect(first.gradient + second.gradient == whole.gradient)  // each shard's rows, in order
    }

    /// Each thread's free-bits term, kept under a lock.
    final class Parts: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [Int: (value: Float, gradient: [Float])] = [:]
        func set(_ rank: Int, _ value: (value: Float, gradient: [Float])) { lock.lock(); stored[rank] = value; lock.unlock() }
        var values: [(value: Float, gradient: [Float])?] { lock.lock(); defer { lock.unlock() }; return [stored[0], stored[1]] }
    }

    /// Trains `configuration` in one process and in a group of two threads; expects one model.
    func expectGroupTrainsAsOneProcess(_ configuration: TrainingConfiguration, overlapping: Bool) throws {
        BLAS.setThreadCount(1)
        let single = try Trainer(configuration: configuration, train: Self.train, test: Self.test)
        _ = try TrainerTests.trainAll(single)
        let alone = single.evaluateTest(epoch: 2)
        let members = Members(try LocalProcessGroup.make(size: 2).map {
            try Trainer(configuration: configuration, train: Self.train, test: Self.test, processGroup: $0)
        })
        let trainers = members.trainers
        for trainer in trainers { trainer.overlapsCommunication = overlapping }
        let results = Results()
        // One dedicated thread per member: the members wait for each other at every sum, so
        // they must not share a pool that may run them one after another (on one CPU
        // `concurrentPerform` does, and the first member waits for ever).
        let done = DispatchSemaphore(value: 0)
        for rank in 0..<2 {
            Thread {
                let trainer = members.trainers[rank]
                while !trainer.isFinished { _ = try! trainer.trainEpoch() }
                results.set(rank, trainer.evaluateTest(epoch: 2))
                done.signal()
            }.start()
        }
        for _ in 0..<2 { done.wait() }
        let evaluations = results.values
        // The members hold one model (every step applied the same summed gradient)...
        #expect(zip(trainers[0].model.parameters, trainers[1].model.parameters).allSatisfy { $0.0.scalars == $0.1.scalars })
        #expect(evaluations[0] == evaluations[1])
        // ...the one a single process trains, up to the order of the sums.
        let difference = zip(trainers[0].model.parameters, single.model.parameters).map { pair in
            zip(pair.0.scalars, pair.1.scalars).map { abs($0 - $1) }.max()!
        }.max()!
        #expect(difference < 1e-4, "largest parameter difference \(difference)")
        #expect(abs(evaluations[0]!.loss - alone.loss) < 1e-3 * alone.loss && evaluations[0]!.images == alone.images)
    }

    /// A group of one that records each sum it is asked for: where, and the values it was given.
    final class RecordingGroup: ProcessGroup {
        let rank = 0, size = 1
        var started: [(offset: Int, values: [Float])] = []
        var finished = 0
        let base: UnsafeMutablePointer<Float>
        init(base: UnsafeMutablePointer<Float>) { self.base = base }
        func sum(_ values: UnsafeMutablePointer<Float>, count: Int) {}
        func startSum(_ values: UnsafeMutablePointer<Float>, count: Int) {
            started.append((values - base, Array(UnsafeBufferPointer(start: values, count: count))))
        }
        func finishSums() { finished += 1 }
        func sum(_ values: inout [Double]) {}
        func broadcast(_ bytes: inout [UInt8], from root: Int) {}
        func abort(_ message: String) -> Never { fatalError(message) }
    }

    @Test func gradientBucketsTileThePackFromItsEndAndStartWithFinalGradientsDuringBackward() throws {
        let configuration: ModelSpecification = .mlp(MLPConfiguration(inputSize: 64, hiddenSizes: [32, 16], latentSize: 4))
        var generator = RandomGenerator(seed: 3)
        let model = try configuration.makeModel(using: &generator)
        let pack = ParameterPack(model.parameters)
        let group = RecordingGroup(base: pack.gradients)
        let buckets = GradientBuckets(pack: pack, group: group, capacity: 600)
        // Contiguous slices that tile the flat buffer from its end, each of at least 600 values
        // (the last, at the pack's start, may be smaller).
        var end = pack.count
        for (index, bucket) in buckets.buckets.enumerated() {
            #expect(bucket.offset + bucket.count == end && bucket.count == bucket.tensors.map { pack.tensors[$0].count }.reduce(0, +))
            #expect(bucket.count >= 600 || index == buckets.buckets.count - 1)
            end = bucket.offset
        }
        #expect(end == 0 && buckets.buckets.count >= 3)

        let pixels: [Float] = (0..<512).map { Float(($0 * 37) % 64) / 64 }
        let images = Tensor(shape: [8, 64], scalars: pixels)
        let output = model.forward(images, condition: nil as Tensor?, sampling: LatentSampling.mean, samples: 1)
        let loss = output.likelihood.negativeLogLikelihood(images)
        pack.zeroGradients()
        buckets.begin()
        var nodesAfterFirstStart = 0
        loss.backward { leaves in
            buckets.finished(leaves)
            if !group.started.isEmpty { nodesAfterFirstStart += 1 }
        }
        buckets.finish()
        // Every bucket was summed once, the first while the backward pass still had work...
        #expect(group.started.count == buckets.buckets.count && group.finished == 1)
        #expect(nodesAfterFirstStart > 1)
        // ...and each was handed its final gradients: nothing changed them after its start.
        for (offset, values) in group.started {
            #expect(values == Array(UnsafeBufferPointer(start: pack.gradients + offset, count: values.count)))
        }
    }

    @Test func batchesEveryProcessCannotShareAreRefusedAtSetUp() throws {
        let group = LocalProcessGroup.make(size: 3)
        // 300 images: a batch of 2 leaves one process without images.
        #expect(throws: TrainerSetupError.invalidConfiguration(ConfigurationProblem(.batchSize, "2 is smaller than the 3 processes sharing each batch; every process needs at least one image: use a batch of at least 3"))) {
            try Trainer(configuration: TrainerTests.configuration(batchSize: 2), train: Self.train, test: Self.test, processGroup: group[0])
        }
        // Batches of 299 leave a last batch of 1 image for 3 processes; batches of 298, one of 2.
        for batch in [299, 298] {
            #expect { try Trainer(configuration: TrainerTests.configuration(batchSize: batch), train: Self.train, test: Self.test, processGroup: group[0]) } throws: { error in
                "\(error)".contains("leaves a last batch of \(300 - batch)")
            }
        }
        _ = try Trainer(configuration: TrainerTests.configuration(batchSize: 297), train: Self.train, test: Self.test, processGroup: group[0])
    }

    /// The trainers, one per thread (each touched by its own thread only).
    final class Members: @unchecked Sendable {
        let trainers: [Trainer]
        init(_ trainers: [Trainer]) { self.trainers = trainers }
    }

    /// Each thread's result, kept under a lock.
    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [Int: EvaluationResult] = [:]
        func set(_ rank: Int, _ value: EvaluationResult) { lock.lock(); stored[rank] = value; lock.unlock() }
        var values: [EvaluationResult?] { lock.lock(); defer { lock.unlock() }; return [stored[0], stored[1]] }
    }

    @Test func anObjectiveOfItsOwnPlugsIntoTheTrainer() throws {
        /// A plain autoencoder: the reconstruction at z = μ, no KL.
        final class ReconstructionOnly: Objective {
            var calls = 0
            var summary: String { "reconstruction at z = mu" }
            var isSumOverImages: Bool { true }
            func terms(_ model: any VariationalModel, _ batch: Batch, epochs: Double) -> ObjectiveTerms {
                calls += 1
                let output = model.forward(batch.images, condition: batch.condition, sampling: .mean, samples: 1)
                let loss = output.likelihood.negativeLogLikelihood(batch.images)
                return ObjectiveTerms(loss: loss, figures: BatchFigures(loss: Double(loss.item), reconstruction: Double(loss.item), kl: []))
            }
        }
        BLAS.setThreadCount(1)
        let objective = ReconstructionOnly()
        let trainer = try Trainer(configuration: TrainerTests.configuration(epochs: 3), train: Self.train, test: Self.test, objective: objective)
        let summaries = try TrainerTests.trainAll(trainer)
        #expect(objective.calls == 3 * trainer.batchesPerEpoch)
        #expect(summaries.allSatisfy { $0.kl == 0 } && summaries.last!.reconstruction < summaries.first!.reconstruction)
        // Without a KL the posterior drifts from the prior: the test KL is far above the ELBO-trained model's.
        let elbo = try Trainer(configuration: TrainerTests.configuration(epochs: 3), train: Self.train, test: Self.test)
        _ = try TrainerTests.trainAll(elbo)
        #expect(trainer.evaluateTest(epoch: 3).kl > 2 * elbo.evaluateTest(epoch: 3).kl)
    }

    @Test func aModelOfTwoLatentGroupsTrainsAndEvaluatesThroughTheContract() throws {
        BLAS.setThreadCount(1)
        var generator = RandomGenerator(seed: 3)
        let model = TwoGroupModel(inputSize: 64, using: &generator)
        let x = Tensor(shape: [5, 64], scalars: Array(Self.test.pixels.prefix(5 * 64)))
        let output = model.forward(x, condition: nil, sampling: .noise(NoiseSource(generator: RandomGenerator(seed: 4))), samples: 3)
        #expect(output.groups.map(\.group.name) == ["z2", "z1"] && output.groups.map { $0.z.shape } == [[15, 2], [15, 4]])
        #expect(output.groups[0].klDivergence().estimator == .closedForm && output.groups[1].klDivergence().estimator == .closedForm)
        // Training through the ELBO objective, the figures name each group's KL.
        let optimizer = Adam(parameters: model.parameters, learningRate: 3e-3)
        let noise = NoiseSource(generator: RandomGenerator(seed: 5))
        var first = 0.0, last = 0.0
        for step in 0..<60 {
            let start = (step * 20) % 280
            let batch = Batch(images: Tensor(shape: [20, 64], scalars: Array(Self.train.pixels[(start * 64)..<((start + 20) * 64)])), noise: noise)
            optimizer.zeroGradients()
            let terms = EvidenceLowerBound().terms(model, batch, epochs: 0)
            #expect(terms.figures.kl.map(\.name) == ["z2", "z1"])
            terms.loss.backward()
            optimizer.step()
            if step < 5 { first += terms.figures.loss } else if step >= 55 { last += terms.figures.loss }
        }
        #expect(last < first, "the loss falls: \(first / 5) -> \(last / 5)")
        // The evaluation reports each group, and the bound over both groups is above the ELBO.
        var a = RandomGenerator(seed: 6), b = RandomGenerator(seed: 6)
        let images = Array(Self.test.pixels.prefix(40 * 64))
        let evaluation = model.evaluate(images: images, targets: images, batchSize: 16, using: &a)
        #expect(evaluation.groupKL?.count == 2 && abs(evaluation.groupKL!.reduce(0, +) - evaluation.kl) < 1e-6)
        let bound = model.importanceWeightedBound(images: images, samples: 50, using: &b)
        #expect(bound.logLikelihood > -evaluation.loss, "L_50 \(bound.logLikelihood) against the ELBO \(-evaluation.loss)")
        // Each group's statistics, at the posterior means.
        let statistics = model.latentGroupStatistics(images: images, batchSize: 16)
        #expect(statistics.map(\.group.name) == ["z2", "z1"] && statistics.map { $0.klPerDimension?.count } == [2, 4])
        #expect(statistics.allSatisfy { $0.meanVariances.allSatisfy { $0.isFinite && $0 >= 0 } })
        // A shard of the evaluation draws what one process would.
        var c = RandomGenerator(seed: 6), d = RandomGenerator(seed: 6)
        let halves = [model.evaluate(images: images, targets: images, batchSize: 16, shard: (0, 2), using: &c),
                      model.evaluate(images: images, targets: images, batchSize: 16, shard: (1, 2), using: &d)]
        let combined = (halves[0].loss * Double(halves[0].images) + halves[1].loss * Double(halves[1].images)) / 40
        #expect(abs(combined - evaluation.loss) < 1e-4 * abs(evaluation.loss))
    }

    @Test func aOneGroupModelsStatisticsAreThoseOfItsLatentCodes() {
        var generator = RandomGenerator(seed: 7)
        let model = try! MLPVAE(MLPConfiguration(inputSize: 64, hiddenSizes: [16], latentSize: 5), using: &generator)
        let images = Array(Self.test.pixels)
        let codes = model.encode(images: images, batchSize: 30)
        let statistics = model.latentGroupStatistics(images: images, batchSize: 30)
        #expect(statistics.count == 1 && statistics[0].group == LatentGroup(name: "z", size: 5))
        for (a, b) in zip(statistics[0].klPerDimension!, codes.klPerDimension) { #expect(abs(a - b) < 1e-5 * max(1, b)) }
        for (a, b) in zip(statistics[0].meanVariances, codes.meanVariances) { #expect(abs(a - b) < 1e-5 * max(1, b)) }
        #expect(statistics[0].activeUnits() == codes.activeUnits())
    }

    @Test func aLearnedPriorIsAParameterTrainedThroughAMonteCarloKL() throws {
        /// N(m, diag e^v) shared by every row, m and v learned.
        struct LearnedPrior: LatentDistribution {
            let mean: Tensor, logVariance: Tensor
            var dimension: Int { mean.count }
            func logProbability(_ z: Tensor) -> Tensor {
                let standardised = (z - mean).squared() / logVariance.exp()
                let logNormaliser = logVariance.sum() + Float(Double(dimension) * log(2 * Double.pi))
                return (standardised.sum(alongAxis: 1) + logNormaliser) * -0.5
            }
        }
        /// A one-group MLP model whose prior is `LearnedPrior`.
        final class PriorModel: Module, VariationalModel {
            let inner: MLPVAE
            let priorMean = Tensor(shape: [3], repeating: 2, requiresGradient: true)
            let priorLogVariance = Tensor(shape: [3], repeating: 0, requiresGradient: true)
            init(using generator: inout RandomGenerator) throws { inner = try MLPVAE(MLPConfiguration(inputSize: 64, hiddenSizes: [16], latentSize: 3), using: &generator) }
            var latentSize: Int { 3 }
            var imageShape: ImageShape { inner.imageShape }
            var condition: ModelCondition { .none }
            var specification: ModelSpecification { inner.specification }
            var prior: any LatentDistribution { LearnedPrior(mean: priorMean, logVariance: priorLogVariance) }
            func encode(_ x: Tensor, condition: Tensor?) -> DiagonalGaussian { inner.encode(x, condition: condition) }
            func decode(_ z: Tensor, condition: Tensor?) -> any ImageDistribution { inner.decode(z, condition: condition) }
        }
        BLAS.setThreadCount(1)
        var generator = RandomGenerator(seed: 11)
        let model = try PriorModel(using: &generator)
        #expect(model.namedParameters().map(\.key).contains("priorMean"))
        let optimizer = Adam(parameters: model.parameters, learningRate: 1e-2)
        let noise = NoiseSource(generator: RandomGenerator(seed: 12))
        var losses: [Double] = []
        for step in 0..<150 {
            let start = (step * 20) % 280
            let batch = Batch(images: Tensor(shape: [20, 64], scalars: Array(Self.train.pixels[(start * 64)..<((start + 20) * 64)])), noise: noise)
            optimizer.zeroGradients()
            let terms = EvidenceLowerBound().terms(model, batch, epochs: 0)
            // No closed form to a prior of its own: the objective says it estimated the KL.
            #expect(terms.figures.kl.map(\.estimator) == [.monteCarlo])
            losses.append(terms.figures.loss / 20)
            terms.loss.backward()
            if step == 0 {
                optimizer.parameters.settleGradients()
                #expect(model.priorMean.gradient?.contains { $0 != 0 } == true && model.priorLogVariance.gradient?.contains { $0 != 0 } == true)
            }
            optimizer.step()
        }
        // The prior learned with the model: its mean moved from 2, and the negative ELBO fell.
        #expect(model.priorMean.scalars.map { abs($0 - 2) }.max()! > 0.1, "\(model.priorMean.scalars)")
        let (first, last) = (losses.prefix(20).reduce(0, +) / 20, losses.suffix(20).reduce(0, +) / 20)
        #expect(last < first, "loss \(first) -> \(last)")
    }

    @Test func aKindFromElsewhereReadsOnceRegisteredAndIsRefusedBefore() throws {
        let json = Data(#"{"kind": "test-never-registered", "configuration": {}}"#.utf8)
        let error = #expect(throws: DecodingError.self) { try JSONDecoder().decode(ModelSpecification.self, from: json) }
        #expect("\(String(describing: error))".contains("the model kind 'test-never-registered' is not registered"))
        ModelKinds.register(LinearGaussianArchitecture.self)
        ModelKinds.register(LinearGaussianArchitecture.self)  // twice is once
        let specification = ModelSpecification(LinearGaussianArchitecture())
        let decoded = try JSONDecoder().decode(ModelSpecification.self, from: JSONEncoder().encode(specification))
        #expect(decoded == specification && decoded.kind == "test-linear-gaussian")
        #expect(ModelKinds.names.filter { $0 == "test-linear-gaussian" }.count == 1)
    }

    @Test func aFileOfANewerOrAnotherFormatIsRefusedWithAHint() throws {
        var file = SafeTensorsFile()
        #expect(throws: Never.self) { try TrainingCheckpoint.checkFormat(file, fileName: "m.safetensors") }
        for accepted in ["vae-toolkit/1", "vae-toolkit/2"] {
            file.metadata["format"] = accepted
            #expect(throws: Never.self) { try TrainingCheckpoint.checkFormat(file, fileName: "m.safetensors") }
        }
        file.metadata["format"] = "vae-toolkit/3"
        let newer = #expect(throws: CheckpointError.self) { try TrainingCheckpoint.checkFormat(file, fileName: "m.safetensors") }
        #expect(newer?.errorDescription?.contains("newer version") == true && newer?.errorDescription?.contains("Hint: update") == true)
        file.metadata["format"] = "pytorch-lightning/1"
        #expect(throws: CheckpointError.unknownFormat(file: "m.safetensors", format: "pytorch-lightning/1")) {
            try TrainingCheckpoint.checkFormat(file, fileName: "m.safetensors")
        }
        var generator = RandomGenerator(seed: 1)
        let model = try MLPVAE(MLPConfiguration(inputSize: 64, hiddenSizes: [8], latentSize: 2), using: &generator)
        #expect(TrainingCheckpoint.modelFile(model).metadata["format"] == "vae-toolkit/2")
    }

    @Test func aLikelihoodThatDoesNotFitTheDataIsRefusedBeforeTraining() throws {
        var configuration = TrainerTests.configuration()
        configuration.model = try configuration.model.withLikelihood(.logisticMixture(components: 3))
        // The synthetic digits are grey levels, not 8-bit levels.
        let error = #expect(throws: TrainerSetupError.self) { try Trainer(configuration: configuration, train: Self.train, test: Self.test) }
        guard case let .data(problem) = error else { Issue.record("expected a data problem, got \(String(describing: error))"); return }
        #expect(problem.setting == .likelihood && problem.message.contains("8-bit levels"))
        // Binarised colour: a problem of the configuration itself.
        var colour = TrainerTests.configuration()
        colour.model = colour.model.fitted(to: ImageShape(channels: 3, height: 8, width: 8))
        colour.binarization = .threshold
        #expect(colour.problems.contains { $0.setting == .binarization })
        // The affine kind's decoder gives one likelihood only.
        #expect(throws: ConfigurationProblem.self) { try ModelSpecification.affine(AffineModelConfiguration()).withLikelihood(.bernoulli) }
    }
}

/// A model of two latent groups in the IWAE paper's form, small: q(z1 | x), q(z2 | z1);
/// p(z2) = N(0, I), p(z1 | z2) a Gaussian from a linear layer, p(x | z1) Bernoulli. Top group z2.
final class TwoGroupModel: Module, VariationalModel {
    let encoder1: Linear, encoder2: Linear, prior1: Linear, decoder: Linear
    let inputSize: Int

    init(inputSize: Int, using generator: inout RandomGenerator) {
        encoder1 = Linear(inputSize: inputSize, outputSize: 8, using: &generator)
        encoder2 = Linear(inputSize: 4, outputSize: 4, using: &generator)
        prior1 = Linear(inputSize: 2, outputSize: 8, using: &generator)
        decoder = Linear(inputSize: 4, outputSize: inputSize, using: &generator)
        self.inputSize = inputSize
    }

    var latentSize: Int { 2 }
    var latentGroups: [LatentGroup] { [LatentGroup(name: "z2", size: 2), LatentGroup(name: "z1", size: 4)] }
    var imageShape: ImageShape { .grey(height: 8, width: inputSize / 8) }
    var condition: ModelCondition { .none }
    var specification: ModelSpecification { ModelSpecification(LinearGaussianArchitecture()) }

    /// A Gaussian from a layer giving [mean, log-variance].
    static func gaussian(_ output: Tensor, size: Int) -> DiagonalGaussian {
        DiagonalGaussian(mean: output.sliced(lastAxis: 0..<size), logVariance: output.sliced(lastAxis: size..<(2 * size)))
    }

    func encode(_ x: Tensor, condition: Tensor?) -> DiagonalGaussian {
        Self.gaussian(encoder2(Self.gaussian(encoder1(x), size: 4).mean), size: 2)
    }

    func decode(_ z: Tensor, condition: Tensor?) -> any ImageDistribution {
        Bernoulli(logits: decoder(Self.gaussian(prior1(z), size: 4).mean))
    }

    func forward(_ x: Tensor, condition: Tensor?, sampling: LatentSampling, samples: Int) -> ModelOutput {
        let q1 = Self.gaussian(encoder1(x), size: 4).repeatingRows(samples)
        var noise1: Tensor?, noise2: Tensor?
        if case let .noise(source) = sampling { noise1 = source.normal(rows: q1.rows, columns: 4) }
        let z1 = q1.sample(noise: noise1)
        let q2 = Self.gaussian(encoder2(z1), size: 2)
        if case let .noise(source) = sampling { noise2 = source.normal(rows: q2.rows, columns: 2) }
        let z2 = q2.sample(noise: noise2)
        return ModelOutput(groups: [
            LatentGroupOutput(group: latentGroups[0], posterior: q2, prior: StandardNormal(dimension: 2), z: z2, noise: noise2),
            LatentGroupOutput(group: latentGroups[1], posterior: q1, prior: Self.gaussian(prior1(z2), size: 4), z: z1, noise: noise1),
        ], likelihood: Bernoulli(logits: decoder(z1)), samplesPerImage: samples)
    }
}
