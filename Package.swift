// swift-tools-version:6.0
import PackageDescription

// Data flows one way:
//   COpenBLAS -> TensorCore -> NN -> (VAE library, later) -> VAECommand
//                TensorCore -> Optimizers
//   Persistence -> SafeTensors -> NN
//   CZlib -> Datasets (IDX files) -> (VAE library, later)
let package = Package(
    name: "VAEToolkit",
    products: [
        .library(name: "VAEToolkit", targets: ["TensorCore", "NN", "Optimizers", "SafeTensors", "Persistence", "Datasets"]),
        .executable(name: "vae", targets: ["VAECommand"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: - System libraries
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),

        // MARK: - Engine
        .target(name: "TensorCore", dependencies: ["COpenBLAS"]),

        // MARK: - Files
        .target(name: "Persistence"),
        .target(name: "SafeTensors", dependencies: ["Persistence"]),

        // MARK: - Data
        .target(name: "Datasets", dependencies: ["CZlib"]),

        // MARK: - Layers, losses, optimizers
        .target(name: "NN", dependencies: ["TensorCore", "SafeTensors"]),
        .target(name: "Optimizers", dependencies: ["TensorCore"]),

        // MARK: - Measurement and the command-line tool
        .target(name: "Benchmarks", dependencies: ["TensorCore", "NN", "COpenBLAS"]),
        .executableTarget(
            name: "VAECommand",
            dependencies: [
                "TensorCore", "NN", "Optimizers", "Benchmarks", "Datasets",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Tests
        .target(name: "_TestSupport", dependencies: ["TensorCore"], path: "Sources/_TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "_TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Optimizers", "TensorCore", "SafeTensors", "_TestSupport"]),
        .testTarget(name: "OptimizersTests", dependencies: ["Optimizers", "NN", "TensorCore"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "Persistence"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "CZlib"]),
    ]
)
