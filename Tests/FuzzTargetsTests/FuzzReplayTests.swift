import Foundation
import FuzzTargets
import Testing

/// The fuzz targets run in the suite: their seeds are accepted (so the fuzzer starts from
/// valid input), damaged variants of every seed are refused without a crash, and every input
/// saved in Tests/FuzzInputs/<target>/ (crash inputs found by `scripts/fuzz.sh`, then fixed)
/// is replayed.
@Suite struct FuzzReplayTests {
    static let inputs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("FuzzInputs")

    @Test(arguments: FuzzTarget.allCases)
    func seedsAreAcceptedAndTheirDamagedVariantsRefusedWithoutACrash(target: FuzzTarget) {
        let seeds = target.seeds
        #expect(!seeds.isEmpty)
        for (name, seed) in seeds.sorted(by: { $0.key < $1.key }) {
            #expect(target.run(seed), "\(target.rawValue): seed \(name) was refused")
            // Every cut, and bytes flipped at a spread of places: a refusal or a valid read, never a trap.
            for length in stride(from: 0, to: seed.count, by: max(1, seed.count / 97)) { target.run(seed.prefix(length)) }
            var generator = SplitMix(seed: UInt64(seed.count))
            for _ in 0..<200 {
                var damaged = seed
                for _ in 0..<(1 + Int(generator.next() % 4)) where !damaged.isEmpty {
                    let index = damaged.startIndex + Int(generator.next() % UInt64(damaged.count))
                    damaged[index] = UInt8(truncatingIfNeeded: generator.next())
                }
                target.run(damaged)
            }
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func savedInputsReplayWithoutACrash(target: FuzzTarget) throws {
        let folder = Self.inputs.appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names.sorted() {
            target.run(try Data(contentsOf: folder.appendingPathComponent(name)))
        }
    }
}

/// A small deterministic generator for the damage.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
