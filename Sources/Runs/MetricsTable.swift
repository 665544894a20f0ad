import Foundation
import Persistence

/// One epoch's figures, one line of `metrics.csv`.
///
/// Losses are per image in nats: reconstruction (-log p(x|z) summed over pixels) + KL.
/// `train_*` are averages over the epoch's batches (the parameters change during the epoch, as
/// in PyTorch's example); `test_loss` uses one sampled z per test image, `test_loss_mean` z = μ.
/// `recon` and `kl` are the training epoch's two terms; `seconds` and `images_per_second` time
/// the training part of the epoch alone; `eval_seconds` the test evaluation. A model with its
/// own loss terms or figures adds columns after these, in name order (design B:
/// `train_classifier_cross_entropy`, `validation_accuracy`, `validation_reconstruction_mse`).
public struct MetricsRow: Equatable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var testLoss: Double
    public var testLossMean: Double
    public var reconstruction: Double
    public var kl: Double
    public var testReconstruction: Double
    public var testKL: Double
    public var seconds: Double
    public var imagesPerSecond: Double
    public var evaluationSeconds: Double
    /// The model's own columns by name (lower case, words joined by "_").
    public var extra: [String: Double]

    public init(epoch: Int, trainLoss: Double, testLoss: Double, testLossMean: Double, reconstruction: Double, kl: Double,
                testReconstruction: Double, testKL: Double, seconds: Double, imagesPerSecond: Double, evaluationSeconds: Double,
                extra: [String: Double] = [:]) {
        self.extra = extra
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.testLoss = testLoss
        self.testLossMean = testLossMean
        self.reconstruction = reconstruction
        self.kl = kl
        self.testReconstruction = testReconstruction
        self.testKL = testKL
        self.seconds = seconds
        self.imagesPerSecond = imagesPerSecond
        self.evaluationSeconds = evaluationSeconds
    }

    public static let header = "epoch,train_loss,test_loss,test_loss_mean,recon,kl,test_recon,test_kl,seconds,images_per_second,eval_seconds"

    var csvLine: String {
        let losses = [trainLoss, testLoss, testLossMean, reconstruction, kl, testReconstruction, testKL].map { String(format: "%.4f", $0) }
        let timings = [String(format: "%.3f", seconds), String(format: "%.0f", imagesPerSecond), String(format: "%.3f", evaluationSeconds)]
        return ([String(epoch)] + losses + timings + extra.keys.sorted().map { String(format: "%.6g", extra[$0]!) }).joined(separator: ",")
    }

    /// "classifier cross-entropy" -> "classifier_cross_entropy".
    public static func columnName(_ words: String) -> String {
        words.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).joined(separator: "_")
    }
}

/// `metrics.csv`: a header and one line per finished epoch, rewritten atomically after each.
public enum MetricsTable {
    public static func encode(_ rows: [MetricsRow]) -> String {
        let extra = rows.last.map { $0.extra.keys.sorted() } ?? []
        let header = ([MetricsRow.header] + extra).joined(separator: ",")
        return ([header] + rows.map(\.csvLine)).joined(separator: "\n") + "\n"
    }

    public static func write(_ rows: [MetricsRow], to url: URL) throws(FileWriteError) {
        try writeAtomically(Data(encode(rows).utf8), to: url)
    }

    /// Parses a file written by `encode`; nil when it is not one.
    public static func decode(_ text: String) -> [MetricsRow]? {
        let lines = text.split(separator: "\n").map(String.init)
        guard let first = lines.first, first == MetricsRow.header || first.hasPrefix(MetricsRow.header + ",") else { return nil }
        let extra = first.split(separator: ",").dropFirst(11).map(String.init)
        guard extra.allSatisfy({ !$0.isEmpty }) else { return nil }
        var rows: [MetricsRow] = []
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 11 + extra.count, let epoch = Int(fields[0]) else { return nil }
            let values = fields.dropFirst().compactMap(Double.init)
            guard values.count == 10 + extra.count else { return nil }
            rows.append(MetricsRow(epoch: epoch, trainLoss: values[0], testLoss: values[1], testLossMean: values[2],
                                   reconstruction: values[3], kl: values[4], testReconstruction: values[5], testKL: values[6],
                                   seconds: values[7], imagesPerSecond: values[8], evaluationSeconds: values[9],
                                   extra: Dictionary(uniqueKeysWithValues: zip(extra, values[10...]))))
        }
        return rows
    }
}
