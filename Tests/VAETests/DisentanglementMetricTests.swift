import Datasets
import Foundation
import TensorCore
import Testing
import VAEEvaluation

/// The disentanglement metrics on codes whose answers are known, and against
/// `reference/disentanglement_metrics.py` (disentanglement_lib's definitions with scikit-learn's
/// models) on the same codes and the same draws.
@Suite struct DisentanglementMetricTests {
    /// A small grid in dSprites' form (a constant colour, then five factors).
    static let grid: [Factor] = [Factor(name: "color", values: [1]), .evenlySpaced("shape", from: 1, to: 3, count: 3),
                                 .evenlySpaced("scale", from: 0.5, to: 1, count: 4), .evenlySpaced("orientation", from: 0, to: 6, count: 5),
                                 .evenlySpaced("posX", from: 0, to: 1, count: 6), .evenlySpaced("posY", from: 0, to: 1, count: 6)]

    /// Codes that are the factor classes themselves, one dimension per factor.
    static func classCodes() -> FactorCodes {
        let count = DSprites.count(grid)
        var codes: [Float] = []
        for index in 0..<count { codes += DSprites.classes(ofImage: index, grid: grid).dropFirst().map(Float.init) }
        return FactorCodes(grid: grid, codes: codes, size: 5)
    }

    // MARK: - Known answers

    @Test func migIsOneWhenEachDimensionIsOneFactorOverTheWholeGrid() {
        let codes = Self.classCodes(), all = Array(0..<codes.count)
        let result = MutualInformationGap.score(codes: codes.codeColumns(all), factors: codes.factorColumns(all))
        #expect(abs(result.score - 1) < 1e-12, "\(result.score)")
        #expect(result.gaps.allSatisfy { abs($0 - 1) < 1e-12 })
        // A factor's entropy is log of its class count, the grid holding every class equally.
        #expect(zip(result.entropies, [3.0, 4, 5, 6, 6]).allSatisfy { abs($0 - log($1)) < 1e-12 })
    }

    @Test func migIsZeroWhenEveryDimensionIsConstant() {
        let count = DSprites.count(Self.grid), all = Array(0..<count)
        let codes = FactorCodes(grid: Self.grid, codes: [Float](repeating: 0.5, count: count * 3), size: 3)
        #expect(MutualInformationGap.score(codes: codes.codeColumns(all), factors: codes.factorColumns(all)).score == 0)
    }

    @Test func histogramBinsFollowNumpysDigitizeOfTheHistogramsLowerEdges() {
        // Edges 0, 1, 2, 3 (and 4): a value on an edge falls in the bin it opens; the maximum in the last.
        #expect(Discretization.histogramBins([0, 0.5, 1, 2.999, 3, 4], bins: 4) == [1, 1, 2, 3, 4, 4])
        // All equal: the range is value ± 0.5, every value in the middle bin.
        #expect(Discretization.histogramBins([2, 2, 2], bins: 4) == [3, 3, 3])
    }

    @Test func theClassifierScoresAreOneWhenEachDimensionIsOneFactor() {
        let codes = Self.classCodes()
        var generator = RandomGenerator(seed: 5)
        let votes = FactorVAEScore.draw(300, batchSize: 32, over: codes, using: &generator)
        let factorVAE = FactorVAEScore.score(varianceImages: codes.drawImages(500, using: &generator), train: votes,
                                             evaluation: FactorVAEScore.draw(200, batchSize: 32, over: codes, using: &generator), codes: codes)
        #expect(factorVAE.evaluation == 1 && factorVAE.activeDimensions == 5 && factorVAE.classifier == [0, 1, 2, 3, 4])
        let betaVAE = BetaVAEScore.score(train: BetaVAEScore.draw(300, batchSize: 16, over: codes, using: &generator),
                                         evaluation: BetaVAEScore.draw(200, batchSize: 16, over: codes, using: &generator), codes: codes)
        #expect(betaVAE.evaluation == 1 && betaVAE.train == 1)
    }

    @Test func theFactorVAEScoreIsZeroWithNoDimensionAboveTheThreshold() {
        let count = DSprites.count(Self.grid)
        let codes = FactorCodes(grid: Self.grid, codes: (0..<(count * 2)).map { Float($0 % 7) * 0.001 }, size: 2)
        var generator = RandomGenerator(seed: 1)
        let result = FactorVAEScore.score(varianceImages: codes.drawImages(100, using: &generator),
                                          train: FactorVAEScore.draw(10, over: codes, using: &generator),
                                          evaluation: FactorVAEScore.draw(10, over: codes, using: &generator), codes: codes)
        #expect(result.evaluation == 0 && result.activeDimensions == 0)
    }

    @Test func disentanglementAndCompletenessAreOneForADiagonalImportanceAndZeroForAUniformOne() {
        let diagonal = DCIScores(importance: [[0.7, 0, 0], [0, 0.2, 0], [0, 0, 0.1]], informativenessTrain: 1, informativenessTest: 1)
        #expect(abs(diagonal.disentanglement - 1) < 1e-8 && abs(diagonal.completeness - 1) < 1e-8)
        let uniform = DCIScores(importance: [[1, 1, 1], [1, 1, 1]], informativenessTrain: 1, informativenessTest: 1)
        #expect(abs(uniform.disentanglement) < 1e-12 && abs(uniform.completeness) < 1e-12)
        // One dimension for two factors: that row's entropy is 1/2 in base 4 (log 2 / log 4), so D = 1/2; each factor is complete.
        let shared = DCIScores(importance: [[1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], informativenessTrain: 1, informativenessTest: 1)
        #expect(abs(shared.disentanglement - 0.5) < 1e-8 && abs(shared.completeness - 1) < 1e-8)
    }

    @Test func theGaussianTotalCorrelationOfTwoCorrelatedCodesIsMinusHalfTheLogOfOneMinusRhoSquared() {
        // Codes (a, ρ a + √(1 − ρ²) b) with a, b orthogonal ±1 patterns: correlation ρ exactly.
        let n = 400, rho = 0.6
        let a = (0..<n).map { $0 % 2 == 0 ? 1.0 : -1.0 }, b = (0..<n).map { ($0 / 2) % 2 == 0 ? 1.0 : -1.0 }
        let scores = UnsupervisedScores(codes: [a, zip(a, b).map { rho * $0 + (1 - rho * rho).squareRoot() * $1 }])
        #expect(abs(scores.gaussianTotalCorrelation - (-0.5 * log(1 - rho * rho))) < 1e-10, "\(scores.gaussianTotalCorrelation)")
        // Unit variances: W = 2 tr Σ − 2 tr Σ^{1/2}, Σ^{1/2} with eigenvalues √(1 ± ρ).
        let wasserstein = 4 - 2 * ((1 + rho).squareRoot() + (1 - rho).squareRoot())
        let varianceScale = Double(n) / Double(n - 1)  // Σ is divided by n − 1
        #expect(abs(scores.gaussianWassersteinCorrelation - varianceScale * wasserstein) < 1e-10)
    }

    // MARK: - Against the Python reference

    /// The fixture's arrays.
    struct Reference {
        let archive: NumpyArchive
        init() throws {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/disentanglement-reference.npz")
            archive = try NumpyArchive(url: url)
        }
        func integers(_ name: String) throws -> [Int] { try archive.array(name).doubles.map { Int($0) } }
        func rows(_ name: String) throws -> [[Int]] {
            let array = try archive.array(name), width = array.header.shape[1], values = array.doubles.map { Int($0) }
            return stride(from: 0, to: values.count, by: width).map { Array(values[$0..<($0 + width)]) }
        }
        func figure(_ name: String) throws -> Double { try archive.array(name).doubles[0] }
        func codes(_ name: String) throws -> FactorCodes {
            let array = try archive.array("codes_" + name)
            return FactorCodes(grid: DisentanglementMetricTests.grid, codes: array.doubles.map(Float.init), size: array.header.shape[1])
        }
    }

    @Test(arguments: ["aligned", "ignoring", "mixed"])
    func everyMetricAgreesWithThePythonReferenceOnTheSameCodesAndDraws(representation: String) throws {
        let reference = try Reference()
        let codes = try reference.codes(representation)
        func check(_ name: String, _ value: Double, within tolerance: Double) throws {
            let expected = try reference.figure("\(representation)_\(name)")
            #expect(abs(value - expected) <= tolerance, "\(representation) \(name): \(value), the reference \(expected)")
        }
        let migImages = try reference.integers("mig_images")
        try check("mig", MutualInformationGap.score(codes: codes.codeColumns(migImages), factors: codes.factorColumns(migImages)).score, within: 0.005)
        let unsupervised = UnsupervisedScores(codes: codes.codeColumns(migImages))
        try check("gaussian_total_correlation", unsupervised.gaussianTotalCorrelation, within: 0.005)
        try check("gaussian_wasserstein_correlation", unsupervised.gaussianWassersteinCorrelation, within: 0.005)
        try check("gaussian_wasserstein_correlation_norm", unsupervised.gaussianWassersteinCorrelationNormalized, within: 0.005)
        try check("mutual_info_score", unsupervised.mutualInformation, within: 0.005)

        let train = try reference.integers("sap_train"), test = try reference.integers("sap_test")
        let sap = SeparatedAttributePredictability.score(trainCodes: codes.codeColumns(train), trainFactors: codes.factorColumns(train),
                                                         testCodes: codes.codeColumns(test), testFactors: codes.factorColumns(test))
        try check("sap", sap.score, within: 0.01)
        let dci = DCIScores(trainCodes: codes.codeColumns(train), trainFactors: codes.factorColumns(train),
                            testCodes: codes.codeColumns(test), testFactors: codes.factorColumns(test))
        try check("dci_disentanglement", dci.disentanglement, within: 0.01)
        try check("dci_completeness", dci.completeness, within: 0.01)
        try check("dci_informativeness_train", dci.informativenessTrain, within: 0.01)
        try check("dci_informativeness_test", dci.informativenessTest, within: 0.01)

        func betaDraws(_ split: String) throws -> [BetaVAEScore.Draw] {
            let factors = try reference.integers("beta_vae_\(split)_factor")
            return zip(factors, zip(try reference.rows("beta_vae_\(split)_first"), try reference.rows("beta_vae_\(split)_second")))
                .map { BetaVAEScore.Draw(factor: $0, first: $1.0, second: $1.1) }
        }
        let betaVAE = BetaVAEScore.score(train: try betaDraws("train"), evaluation: try betaDraws("eval"), codes: codes)
        try check("beta_vae_train", betaVAE.train, within: 0.01)
        try check("beta_vae_eval", betaVAE.evaluation, within: 0.01)

        func factorDraws(_ split: String) throws -> [FactorVAEScore.Draw] {
            zip(try reference.integers("factor_vae_\(split)_factor"), try reference.rows("factor_vae_\(split)_images")).map { FactorVAEScore.Draw(factor: $0, images: $1) }
        }
        let factorVAE = FactorVAEScore.score(varianceImages: try reference.integers("factor_vae_variance"), train: try factorDraws("train"),
                                             evaluation: try factorDraws("eval"), codes: codes)
        try check("factor_vae_train", factorVAE.train, within: 0.01)
        try check("factor_vae_eval", factorVAE.evaluation, within: 0.01)
    }
}
