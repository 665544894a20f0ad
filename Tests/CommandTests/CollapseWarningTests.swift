import Foundation
import Testing

/// Training warns, naming the epoch, when the posterior collapses (once while it lasts), and stays quiet otherwise.
@Suite struct CollapseWarningTests {
    static func train(_ out: String, _ extra: [String], epochs: Int = 1) throws -> (status: Int32, output: String) {
        try Tool.run(["train", "--preset", "pytorch-example", "--data-dir", ScoreCommandTests.mnist, "--out", out, "--epochs", "\(epochs)",
                      "--hidden-sizes", "32", "--latent-size", "4", "--batch-size", "256"] + extra)
    }

    @Test func aCollapsingRunIsWarnedAboutByEpochOnce() throws {
        let scratch = try ScratchFolder("collapse")
        // A KL weight of 200 closes every dimension within the first epoch, and they stay closed.
        let collapsed = try Self.train(scratch.path("collapsed"), ["--beta", "200"], epochs: 2)
        #expect(collapsed.status == 0, "\(collapsed.output)")
        #expect(collapsed.output.contains("warning: epoch 1: the posterior is collapsing: test KL")
                && collapsed.output.contains("0 of 4 dimensions active (under a quarter"), "\(collapsed.output)")
        #expect(collapsed.output.components(separatedBy: "collapsing").count == 2, "said once: \(collapsed.output)")
        #expect(collapsed.output.contains("epoch   2  train"), "\(collapsed.output)")
        let healthy = try Self.train(scratch.path("healthy"), [])
        #expect(healthy.status == 0 && !healthy.output.contains("collapsing"), "\(healthy.output)")
    }
}
