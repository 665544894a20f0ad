import Foundation
import Persistence

/// One epoch's figures, one line of `metrics.csv`.
///
/// Losses are per image in nats: reconstruction (-log p(x|z) summed over pixels) + KL.
/// `train_*` are averages over the epoch's batches (the parameters change during the epoch, as
/// in PyTorch's example); `test_loss` uses one sampled z per test image, `test_loss_mean` z = μ.
/// `recon` and `kl` are the training epoch's two terms; `seconds` and `images_per_second` time
/// the training part of the epoch alone; `eval_seconds` the test evaluation. A model with its
/// own loss terms or figures adds columns after these, in name order (the affine kind:
/// `train_classifier_cross_entropy`, `validation_accuracy`, `validation_reconstruction_mse`).
public struct MetricsRow: Equatable, Sendable {
    /// The epoch, from 1.
    public var epoch: Int
    /// `train_loss`: the mean negative ELBO over the epoch's batches.
    public var trainLoss: Double
    /// `test_loss`: the test negative ELBO with one sampled z per image.
    public var testLoss: Double
    /// `test_loss_mean`: the test negative ELBO with z = μ.
    public var testLossMean: Double
    /// `recon`: the training reconstruction term.
    public var reconstruction: Double
    /// `kl`: the training KL term.
    public var kl: Double
    /// `test_recon`: the test reconstruction term (sampled z).
    public var testReconstruction: Double
    /// `test_kl`: the test KL term.
    public var testKL: Double
    /// `seconds`: the training part of the epoch.
    public var seconds: Double
    /// `images_per_second`: training throughput.
    public var imagesPerSecond: Double
    /// `eval_seconds`: the test evaluation.
    public var evaluationSeconds: Double
    /// The model's own columns by name (lower case, words joined by "_").
    public var extra: [String: Double]

    /// One epoch's figures; `extra` holds the model's own columns.
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

    /// The fixed columns' header line.
    public static let header = "epoch,train_loss,test_loss,test_loss_mean,recon,kl,test_recon,test_kl,seconds,images_per_second,eval_seconds"

    /// Every column's name and value, as `metrics.csv` has them: the fixed ones, then the extra
    /// ones in name order.
    public var columns: [(name: String, value: Double)] {
        let fixed = [Double(epoch), trainLoss, testLoss, testLossMean, reconstruction, kl, testReconstruction, testKL, seconds, imagesPerSecond, evaluationSeconds]
        return zip(Self.header.split(separator: ",").map(String.init), fixed).map { (name: $0.0, value: $0.1) }
            + extra.keys.sorted().map { (name: $0, value: extra[$0]!) }
    }

    /// The row's line with the extra `columns` in that order (a column the row lacks is left empty).
    func csvLine(columns: [String]) -> String {
        let losses = [trainLoss, testLoss, testLossMean, reconstruction, kl, testReconstruction, testKL].map { String(format: "%.4f", $0) }
        let timings = [String(format: "%.3f", seconds), String(format: "%.0f", imagesPerSecond), String(format: "%.3f", evaluationSeconds)]
        return ([String(epoch)] + losses + timings + columns.map { extra[$0].map { String(format: "%.6g", $0) } ?? "" }).joined(separator: ",")
    }

    /// "classifier cross-entropy" -> "classifier_cross_entropy".
    public static func columnName(_ words: String) -> String {
        words.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).joined(separator: "_")
    }
}

/// `metrics.csv`: a header and one line per finished epoch, rewritten atomically after each.
public enum MetricsTable {
    /// The file's text: the header (with every row's extra columns, in name order) and one line
    /// per row, an extra column a row lacks left empty (a run resumed by a version that adds one).
    public static func encode(_ rows: [MetricsRow]) -> String {
        let extra = Set(rows.flatMap(\.extra.keys)).sorted()
        let header = ([MetricsRow.header] + extra).joined(separator: ",")
        return ([header] + rows.map { $0.csvLine(columns: extra) }).joined(separator: "\n") + "\n"
    }

    /// Writes `rows` to `url` atomically.
    /// - Throws: `FileWriteError` when the file cannot be written.
    public static func write(_ rows: [MetricsRow], to url: URL) throws(FileWriteError) {
        try writeAtomically(Data(encode(rows).utf8), to: url)
    }

    /// Parses a file written by `encode` (also with CRLF line ends, as an editor may leave it).
    public static func decode(_ text: String) throws(MetricsTableError) -> [MetricsRow] {
        // "\r\n" is one Character in Swift, so both line ends are separators here.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map(String.init)
        guard let first = lines.first, first == MetricsRow.header || first.hasPrefix(MetricsRow.header + ",") else {
            throw MetricsTableError(line: 1, reason: "expected the header '\(MetricsRow.header)' (and the model's own columns)")
        }
        let extra = first.split(separator: ",", omittingEmptySubsequences: false).dropFirst(11).map(String.init)
        guard extra.allSatisfy({ !$0.isEmpty }), Set(extra).count == extra.count else {
            throw MetricsTableError(line: 1, reason: "the model's own column names must be distinct and not empty")
        }
        var rows: [MetricsRow] = []
        for (index, line) in lines.enumerated().dropFirst() {
            if line.isEmpty && index == lines.count - 1 { break }  // the final line end
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 11 + extra.count else {
                throw MetricsTableError(line: index + 1, reason: "expected \(11 + extra.count) comma-separated fields, found \(fields.count)")
            }
            guard let epoch = Int(fields[0]), epoch == (rows.last?.epoch ?? 0) + 1 else {
                throw MetricsTableError(line: index + 1, reason: "expected epoch \((rows.last?.epoch ?? 0) + 1) in the first field, found '\(fields[0])'")
            }
            var values: [Double?] = []
            for (column, field) in fields.enumerated().dropFirst() {
                if field.isEmpty && column >= 11 { values.append(nil); continue }  // an extra column this row lacks
                guard let value = Double(field) else {
                    throw MetricsTableError(line: index + 1, reason: "field \(column + 1) ('\(field)') is not a number")
                }
                values.append(value)
            }
            let fixed = values[..<10].map { $0! }
            rows.append(MetricsRow(epoch: epoch, trainLoss: fixed[0], testLoss: fixed[1], testLossMean: fixed[2],
                                   reconstruction: fixed[3], kl: fixed[4], testReconstruction: fixed[5], testKL: fixed[6],
                                   seconds: fixed[7], imagesPerSecond: fixed[8], evaluationSeconds: fixed[9],
                                   extra: Dictionary(uniqueKeysWithValues: zip(extra, values[10...]).compactMap { name, value in value.map { (name, $0) } })))
        }
        return rows
    }
}

/// A metrics.csv line that is not as `MetricsTable.encode` writes it.
public struct MetricsTableError: Error, LocalizedError, Equatable, CustomStringConvertible {
    /// 1-based.
    public let line: Int
    /// What is wrong with the line.
    public let reason: String
    /// An error at `line` (1-based).
    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }
    /// "line N: REASON".
    public var description: String { "line \(line): \(reason)" }
    /// The same as `description`.
    public var errorDescription: String? { description }
}
