import Foundation
import Synchronization

/// Splits an elementwise loop between the calling thread and one persistent helper thread.
///
/// Waking a thread per call costs more than short kernels take, so the helper stays alive:
/// after a job it spins briefly on an atomic counter (a follow-up job starts at once), then
/// parks on a condition variable (no core is burnt while sgemm runs). The caller takes the
/// first half of the range and the helper the second; `run` returns when both are done.
/// Splitting never changes an elementwise result; sums come back as two partial sums.
///
/// Callers on several threads at once are safe: whoever finds the helper busy runs its whole
/// range itself.
///
/// `threadCount` is 1 (no helper: everything on the caller) or 2. `BLAS.setThreadCount` sets it
/// too: with the other core busy, one thread is faster for both.
package final class ParallelLoop: @unchecked Sendable {
    /// The process's one loop (one helper thread at most).
    package static let shared = ParallelLoop()

    private let condition = NSCondition()
    private let posted = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    /// Set while a caller owns the helper; a second caller on another thread runs inline.
    private let busy = Atomic<Bool>(false)
    private var job: ((Int, Int) -> Void)?
    private var jobRange = (0, 0)
    private var jobMode: UInt32 = 0
    private var helper: Thread?
    private var threads = 1

    /// 1 or 2 (more cores are not used: the project's machines have two).
    package var threadCount: Int {
        get { threads }
        set {
            precondition(newValue >= 1, "thread count must be at least 1, got \(newValue)")
            threads = min(newValue, 2, ProcessInfo.processInfo.activeProcessorCount)
            if threads == 2 && helper == nil { startHelper() }
        }
    }

    private func startHelper() {
        let thread = Thread { [unowned self] in self.helperLoop() }
        thread.name = "vae-elementwise"
        helper = thread
        thread.start()
    }

    private func helperLoop() {
        var seen = 0
        while true {
            var spins = 0
            while posted.load(ordering: .acquiring) == seen {
                spins &+= 1
                if spins > 4000 {
                    condition.lock()
                    while posted.load(ordering: .acquiring) == seen { condition.wait() }
                    condition.unlock()
                }
            }
            seen = posted.load(ordering: .acquiring)
            let (start, end) = jobRange
            if SubnormalFlushing.currentMode != jobMode { SubnormalFlushing.setMode(jobMode) }
            job!(start, end)
            finished.store(seen, ordering: .releasing)
        }
    }

    /// Calls `body(start, end)` over disjoint ranges covering 0..<count: on two threads when
    /// `threadCount` is 2 and count is at least 2 · grain, else once on the caller. Split points
    /// are multiples of 16, so vector loops see whole vectors except at the very end.
    package func run(count: Int, grain: Int = 1 << 14, _ body: (_ start: Int, _ end: Int) -> Void) {
        guard threads == 2, count >= 2 * grain, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            body(0, count)
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        let half = min((count / 2 + 15) & ~15, count)
        withoutActuallyEscaping(body) { escapable in
            job = escapable
            jobRange = (half, count)
            jobMode = SubnormalFlushing.currentMode
            condition.lock()
            let generation = posted.add(1, ordering: .releasing).newValue
            condition.signal()
            condition.unlock()
            escapable(0, half)
            while finished.load(ordering: .acquiring) != generation {}
            job = nil
        }
    }

    /// Σ of `body(start, end)` over the ranges of `run`.
    package func sum(count: Int, grain: Int = 1 << 14, _ body: (_ start: Int, _ end: Int) -> Float) -> Float {
        var partials: (Float, Float) = (0, 0)
        run(count: count, grain: grain) { start, end in
            if start == 0 { partials.0 = body(start, end) } else { partials.1 = body(start, end) }
        }
        return partials.0 + partials.1
    }
}
