import ArgumentParser
import Foundation
import NN
import Optimizers
import TensorCore

/// Until `vae train` exists, the main job shows the engine at work end to end.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit an MLP to f(x, y) = sin(3x) cos(2y) and print the falling loss.",
        discussion: "Trains a 2-64-64-1 tanh network with Adam on 1,024 random points, evaluates it on 4,096 held-out points, saves it as safetensors and checks that the reloaded model gives the same predictions.")

    @Option(parsing: .unconditional, help: "Training steps.") var steps = 3000
    @Option(parsing: .unconditional, help: "Random seed.") var seed: UInt64 = 1
    @Option(parsing: .unconditional, help: "Adam learning rate.") var learningRate: Float = 3e-3
    @Option(help: "Where to write the trained model.") var out = "runs/demo"

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be positive, got \(learningRate)") }
    }

    static func target(_ points: Tensor) -> Tensor {
        let values = stride(from: 0, to: points.count, by: 2).map { i in
            Foundation.sin(3 * points.scalars[i]) * Foundation.cos(2 * points.scalars[i + 1])
        }
        return Tensor(shape: [points.shape[0], 1], scalars: values)
    }

    func run() throws {
        var generator = RandomGenerator(seed: seed)
        let trainX = Tensor.randomUniform([1024, 2], low: -1, high: 1, using: &generator)
        let testX = Tensor.randomUniform([4096, 2], low: -1, high: 1, using: &generator)
        let (trainY, testY) = (Self.target(trainX), Self.target(testX))
        let model = MultilayerPerceptron(sizes: [2, 64, 64, 1], activation: .tanh, using: &generator)
        let optimizer = Adam(parameters: model.parameters, learningRate: learningRate)
        print("fitting sin(3x)·cos(2y) with a 2-64-64-1 tanh MLP (\(model.parameterCount) parameters), Adam lr \(learningRate), seed \(seed)")
        let start = Date()
        for step in 1...steps {
            optimizer.zeroGradients()
            let loss = meanSquaredError(predictions: model(trainX), targets: trainY)
            loss.backward()
            optimizer.step()
            if step == 1 || step % (steps / 10 == 0 ? 1 : steps / 10) == 0 {
                print(String(format: "step %5d  train MSE %.6f", step, loss.item))
            }
        }
        let testError = withoutGradients { meanSquaredError(predictions: model(testX), targets: testY).item }
        print(String(format: "held-out MSE %.6f (the target's variance is %.4f) in %.2f s", testError, variance(testY.scalars), Date().timeIntervalSince(start)))

        let folder = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("model.safetensors")
        try model.save(to: file, metadata: ["architecture": "mlp-2-64-64-1-tanh"])
        var other = RandomGenerator(seed: seed &+ 1)
        let reloaded = MultilayerPerceptron(sizes: [2, 64, 64, 1], activation: .tanh, using: &other)
        try reloaded.load(from: file)
        let same = withoutGradients { reloaded(testX).scalars == model(testX).scalars }
        print("saved \(file.path); reloaded model gives \(same ? "identical" : "DIFFERENT") predictions")
        if !same { throw ExitCode.failure }
    }

    func variance(_ values: [Float]) -> Double {
        let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
        return values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count)
    }
}
