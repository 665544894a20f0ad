import Testing
import VAE

/// A collapse is said once per episode: when its signs first show and when they clear.
@Suite struct CollapseWatchTests {
    @Test func aCollapseIsSaidWhenItStartsAndWhenItClearsNotEveryEpoch() {
        var watch = CollapseWatch()
        let warning = "warning: epoch 2: the posterior is collapsing"
        #expect(watch.observe(nil, epoch: 1) == nil)
        #expect(watch.observe(warning, epoch: 2) == warning + " (said once while it lasts)")
        #expect(watch.collapsedSince == 2)
        #expect(watch.observe("warning: epoch 3: the posterior is collapsing", epoch: 3) == nil)
        #expect(watch.observe("warning: epoch 4: the posterior is collapsing", epoch: 4) == nil)
        #expect(watch.observe(nil, epoch: 5) == "epoch 5: the signs of collapse seen since epoch 2 have cleared")
        #expect(watch.collapsedSince == nil)
        #expect(watch.observe(nil, epoch: 6) == nil)
        let again = "warning: epoch 7: the posterior is collapsing"
        #expect(watch.observe(again, epoch: 7) == again + " (said once while it lasts)")
    }
}
