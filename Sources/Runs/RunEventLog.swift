import Foundation
import TensorBoard
import VAE
import Visualization

/// A training run's TensorBoard log: event files in the run folder (`events.out.tfevents.*`)
/// holding, against the optimizer step (from 1 over the whole run):
/// - every step of a run of up to ``stepPoints`` steps, and every ``stepInterval``-th step
///   (and the first) of a longer one: `step/loss` (the batch's mean loss per image),
///   `step/learning_rate`, and with gradient clipping `step/gradient_norm` (before clipping);
/// - every epoch, at its last step: `epoch/<column>` for each column of `metrics.csv` but the
///   epoch (the same figures, as 32-bit floats);
/// - when the reconstruction picture is drawn: `reconstructions` and, where the command
///   provides them, `samples`, as PNG images;
/// - at the start: the configuration (`configuration`, the record's JSON as text) and the
///   hyperparameters for the HParams view, which pairs them with the run's last scalars;
/// - at the end: the session's status (success, or failure when the loss stopped being finite).
///
/// A session writes a new file; a resumed one begins it with a `SessionLog` START at the first
/// step it trains, so a reader drops what an earlier session logged past its last checkpoint.
/// Events reach the file when `flush()` is called: the session flushes before each checkpoint.
public final class RunEventLog {
    /// The event file of this session.
    public var url: URL { writer.url }
    private let writer: EventFileWriter
    /// The stride between the steps whose figures are written (1: every step).
    public let stepInterval: Int

    /// At most about this many points of each per-step figure are written over a run: the IWAE
    /// paper's schedule (3,280 epochs of 3,000 steps) would otherwise write about 0.9 GB of them,
    /// of which TensorBoard's scalar view keeps 1,000 points a tag.
    public static let stepPoints = 100_000

    /// The stride for a run of `totalSteps` steps: 1 up to `points` steps, ⌈totalSteps / points⌉ above.
    public static func stepInterval(totalSteps: Int, points: Int = stepPoints) -> Int {
        precondition(points > 0, "at least one point a tag")
        return max(1, (totalSteps + points - 1) / points)
    }

    /// A new event file in `folder` for the run `record`, with the configuration and
    /// hyperparameters written; `resumedAfter`: the steps a resumed run has done (nil for a new run);
    /// `stepInterval`: write the per-step figures of step 1 and of every multiple of it.
    public init(folder: URL, record: RunRecord, resumedAfter stepsDone: Int?, stepInterval: Int = 1) throws(EventFileError) {
        precondition(stepInterval > 0, "a positive stride")
        self.stepInterval = stepInterval
        writer = try EventFileWriter(folder: folder)
        if let stepsDone { writer.sessionLogStart(step: stepsDone + 1) }
        let configuration = record.configuration
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = (try? encoder.encode(record)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        writer.text("configuration", "```json\n\(json)\n```", step: 0)
        writer.sessionStart(hyperparameters: Self.hyperparameters(configuration), group: folder.lastPathComponent)
        try writer.flush()
    }

    /// A Float setting as the decimal it was written as (0.001, not 0.0010000000474974513).
    static func decimal(_ value: Float) -> HyperparameterValue { .number(Double("\(value)") ?? Double(value)) }

    /// The settings the HParams view lists for a run.
    static func hyperparameters(_ configuration: TrainingConfiguration) -> [(name: String, value: HyperparameterValue)] {
        var values: [(name: String, value: HyperparameterValue)] = [
            ("preset", .text(configuration.preset)), ("dataset", .text(configuration.datasetDescription)),
            ("model", .text(configuration.model.kind)), ("architecture", .text(configuration.model.architectureName)),
            ("likelihood", .text("\(configuration.model.likelihood)")), ("objective", .text(configuration.makeObjective().summary)),
            ("optimizer", .text(configuration.optimizer.rawValue)), ("learning_rate", decimal(configuration.learningRate)),
            ("schedule", .text(configuration.schedule.summary)), ("batch_size", .number(Double(configuration.batchSize))),
            ("epochs", .number(Double(configuration.epochs))), ("seed", .number(Double(configuration.seed))),
            ("precision", .text(configuration.precision.rawValue)), ("validation_share", .number(configuration.validationShare)),
        ]
        values.append(("beta", decimal(configuration.objective.beta)))
        if let patience = configuration.patience { values.append(("patience", .number(Double(patience)))) }
        if let norm = configuration.gradientClipNorm { values.append(("gradient_clip_norm", decimal(norm))) }
        if let decay = configuration.weightDecay { values.append(("weight_decay", decimal(decay))) }
        if let decay = configuration.weightAverage { values.append(("weight_average", .number(decay))) }
        return values
    }

    /// The figures of one optimizer step, when it is step 1 or a multiple of ``stepInterval``.
    public func step(_ figures: Trainer.StepFigures) {
        guard figures.step == 1 || figures.step % stepInterval == 0 else { return }
        writer.scalar("step/loss", figures.loss, step: figures.step)
        writer.scalar("step/learning_rate", Double(figures.learningRate), step: figures.step)
        if let norm = figures.gradientNorm { writer.scalar("step/gradient_norm", Double(norm), step: figures.step) }
    }

    /// An epoch's line of `metrics.csv` at the epoch's last step.
    public func epoch(_ row: MetricsRow, step: Int) {
        for (column, value) in row.columns where column != "epoch" { writer.scalar("epoch/" + column, value, step: step) }
    }

    /// A picture (reconstructions or samples) at `step`.
    public func picture(_ tag: String, _ picture: Picture, step: Int) throws(PictureError) {
        let png = try picture.pngData()
        writer.image(tag, png: Array(png), width: picture.width, height: picture.height, channels: picture.channels, step: step)
    }

    /// The end of the session.
    public func finish(_ status: SessionStatus, step: Int) { writer.sessionEnd(status, step: step) }

    /// Writes what is pending to the file.
    public func flush() throws(EventFileError) { try writer.flush() }
}
