import Visualization

/// The learning-curve picture of a run: on the left the loss per image (train, test with a
/// sampled z, test with z = μ), on the right its two terms (reconstruction and KL, train and
/// test), all per epoch from `metrics.csv`.
public enum LearningCurves {
    /// The two plots of the learning curves from `rows`, titled `title`.
    public static func figure(_ rows: [MetricsRow], title: String) -> PlotRow {
        let palette = Colour.qualitative
        func series(_ name: String, _ value: (MetricsRow) -> Double, colour: Int, dashed: Bool = false) -> LinePlot.Series {
            .init(name: name, points: rows.map { (Double($0.epoch), value($0)) }, colour: palette[colour], dashed: dashed)
        }
        let loss = LinePlot(title: title, xLabel: "epoch", yLabel: "loss per image (nats): reconstruction + KL", series: [
            series("train", \.trainLoss, colour: 0),
            series("test (sampled z)", \.testLoss, colour: 1),
            series("test (z = mu)", \.testLossMean, colour: 2, dashed: true),
        ], integerX: true)
        let terms = LinePlot(title: "the two terms", xLabel: "epoch", yLabel: "nats per image", series: [
            series("reconstruction, train", \.reconstruction, colour: 0),
            series("reconstruction, test", \.testReconstruction, colour: 1),
            series("KL, train", \.kl, colour: 0, dashed: true),
            series("KL, test", \.testKL, colour: 1, dashed: true),
        ], integerX: true)
        return PlotRow([loss, terms])
    }
}
