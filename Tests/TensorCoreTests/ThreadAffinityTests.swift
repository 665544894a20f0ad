import Foundation
import Testing
import TensorCore

/// oneDNN primitives are made once per shape and kept; a server runs each request on whichever
/// thread is free. A primitive made on one thread must give the same numbers on another (in
/// oneDNN's default scratchpad mode it fails there with "invalid arguments").
@Suite(.serialized) struct ThreadAffinityTests {
    /// `body` run on a new thread, its result returned.
    static func onAnotherThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: T?
        let thread = Thread { result = body(); done.signal() }
        thread.start()
        done.wait()
        return result!
    }

    static func values(_ count: Int, seed: Int) -> [Float] { (0..<count).map { Float((($0 * 37 + seed) % 97) - 48) / 48 } }

    @Test func convolutionPrimitivesRunOnAThreadOtherThanTheirMaker() {
        let x = Self.values(2 * 3 * 9 * 7, seed: 1), w = Self.values(4 * 3 * 3 * 3, seed: 2), b = Self.values(4, seed: 3)
        let convolve: @Sendable () -> [Float] = {
            withoutGradients {
                let y = Tensor.convolution2D(Tensor(shape: [2, 3, 9, 7], scalars: x), weight: Tensor(shape: [4, 3, 3, 3], scalars: w),
                                             bias: Tensor(shape: [4], scalars: b), stride: SpatialPair(2), padding: SpatialPair(1))
                let t = Tensor.transposedConvolution2D(y, weight: Tensor(shape: [4, 3, 3, 3], scalars: w), bias: nil, stride: SpatialPair(2),
                                                       padding: SpatialPair(1))
                return y.scalars + t.scalars
            }
        }
        let here = convolve()
        let there = Self.onAnotherThread(convolve)
        #expect(here == there)
    }

    @Test func bfloat16ProductsRunOnAThreadOtherThanTheirMaker() {
        let a = Self.values(64 * 48, seed: 4), b = Self.values(48 * 32, seed: 5)
        let multiply: @Sendable () -> [Float] = {
            withoutGradients {
                withPrecision(.bf16) { Tensor.matmul(Tensor(shape: [64, 48], scalars: a), Tensor(shape: [48, 32], scalars: b)).scalars }
            }
        }
        let here = multiply()
        let there = Self.onAnotherThread(multiply)
        #expect(here == there)
    }
}
