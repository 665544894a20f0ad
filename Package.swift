// swift-tools-version:6.0
import PackageDescription

// Data flows one way:
//   COpenBLAS, CDNNL (oneDNN), CFloatingPoint, CKernels (AVX-512 loops) -> TensorCore -> NN, Optimizers
//   Persistence -> SafeTensors -> NN
//   CZlib, CImageDecoding (libpng), CTurboJPEG, Persistence, SafeTensors -> Datasets (IDX files; one decoder, one transform; image folders: listing, cache; binarisation, downloads)
//   TensorCore, NN, Optimizers, Datasets, SafeTensors -> VAE (the model contract, distributions, objectives, training, checkpoints)
//   VAE -> VAEModels (the model kinds: MLP, convolutional, affine; their presets)
//   VAE -> VAEEvaluation (the importance-weighted bound, classifiers as judges, the normalisation report)
//   CPNG, CGif, CCairo, Datasets -> Visualization (pictures: grids, plots; knows no models)
//   VAE, VAEModels, VAEEvaluation, Visualization -> Runs (run folders, loading models)
//   VAE, VAEModels, VAEEvaluation, Visualization -> LatentTools (reconstructions, samples and the samplers fitted to the codes, scatter, manifold, interpolation, traversal)
//   Runs, LatentTools, Hummingbird -> ExplorerServer (`vae explore`: the latent space in the browser)
//   CMPI (Open MPI), VAE -> MessagePassing (the ProcessGroup of an mpirun job: data-parallel training)
//   Runs, LatentTools, ExplorerServer, MessagePassing -> vae (Sources/VAECommand: the `vae` tool, not a product)
//   every public module -> VAEToolkit (the library product's one import)
let package = Package(
    name: "VAEToolkit",
    products: [
        // One import for users of the library (`import VAEToolkit`); the modules stay importable one by one.
        .library(name: "VAEToolkit", targets: ["VAEToolkit"]),
        .executable(name: "vae-fuzz", targets: ["FuzzCommand"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `make docs`: the DocC catalog of the VAEToolkit module (swift package generate-documentation).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
        // `vae explore`: the HTTP server of the latent-space explorer.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Hummingbird's own dependency, named for the tests' in-process channel (NIOEmbedded).
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    ],
    targets: [
        // MARK: - System libraries
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),

        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CGif", providers: [.apt(["libgif-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        // Open MPI, for data-parallel training under mpirun (its handles are macros: see shim.h).
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        // oneDNN ships no pkg-config file; its header is on the default include path.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),

        // MARK: - Engine
        .systemLibrary(name: "CFloatingPoint"),
        // AVX-512 versions of the hot elementwise loops, chosen at run time (C: Swift has no per-function target).
        .target(name: "CKernels"),
        .target(name: "TensorCore", dependencies: ["COpenBLAS", "CDNNL", "CFloatingPoint", "CKernels"]),

        // MARK: - Files
        .target(name: "Persistence"),
        .target(name: "SafeTensors", dependencies: ["Persistence"]),

        // MARK: - Data
        // libpng's full API (its errors are longjmps) behind two C functions: every PNG read for the levels it stores.
        .target(name: "CImageDecoding", linkerSettings: [.linkedLibrary("png16")]),
        .target(name: "Datasets", dependencies: ["CZlib", "CImageDecoding", "CTurboJPEG", "Persistence", "SafeTensors"]),

        // MARK: - Layers, losses, optimizers
        .target(name: "NN", dependencies: ["TensorCore", "SafeTensors"]),
        .target(name: "Optimizers", dependencies: ["TensorCore"]),

        // MARK: - The model contract, distributions, objectives, training, checkpoints
        .target(name: "VAE", dependencies: ["TensorCore", "NN", "Optimizers", "Datasets", "SafeTensors", "Persistence"]),
        // MARK: - The model kinds and their presets
        .target(name: "VAEModels", dependencies: ["VAE", "TensorCore", "NN", "Datasets", "SafeTensors"]),
        // MARK: - Evaluation: the importance-weighted bound, judges, reports
        .target(name: "VAEEvaluation", dependencies: ["VAE", "TensorCore", "NN", "Optimizers", "Datasets", "SafeTensors", "Persistence"],
                // The feature networks of `vae score` (MNIST, Fashion-MNIST): see FeatureNetwork.swift.
                resources: [.copy("FeatureNetworks")]),

        // MARK: - Pictures (knows images and plots, not models)
        .target(name: "Visualization", dependencies: ["CPNG", "CGif", "CCairo", "Datasets", "Persistence"]),

        // MARK: - Run folders: a training run's files and pictures
        .target(name: "Runs", dependencies: ["VAE", "VAEModels", "VAEEvaluation", "Visualization", "Datasets", "SafeTensors", "Persistence", "TensorCore", "Optimizers", "TensorBoard"]),

        // MARK: - TensorBoard's event files (TFRecords of Event protocol buffers), written without TensorFlow
        .target(name: "TensorBoard"),

        // MARK: - Latent-space pictures and tables
        .target(name: "LatentTools", dependencies: ["VAE", "VAEModels", "VAEEvaluation", "Visualization", "TensorCore", "NN", "Optimizers", "SafeTensors", "Datasets"]),

        // MARK: - The library's one import: re-exports every public module
        .target(name: "VAEToolkit", dependencies: ["TensorCore", "NN", "Optimizers", "SafeTensors", "Persistence", "Datasets", "VAE",
                                                   "VAEModels", "VAEEvaluation", "Visualization", "Runs", "LatentTools", "TensorBoard"]),

        // MARK: - Data-parallel training over MPI: the ProcessGroup of an mpirun job
        .target(name: "MessagePassing", dependencies: ["CMPI", "TensorCore", "VAE"]),

        // MARK: - The latent-space explorer's web server (thin: routes, validation, the page)
        .target(name: "ExplorerServer", dependencies: [
            "Runs", "LatentTools", "NN", "VAE", "VAEEvaluation", "Visualization", "Datasets", "TensorCore",
            .product(name: "Hummingbird", package: "hummingbird"),
        ]),

        // MARK: - Measurement and the command-line tool
        .target(name: "Benchmarks", dependencies: ["TensorCore", "NN", "COpenBLAS", "CDNNL", "CKernels", "Datasets", "VAE", "VAEModels", "Runs"]),
        // Named `vae` so that its synthesized product is the `vae` executable; not declared as a
        // product, so that a package depending on the library resolves none of its dependencies.
        .executableTarget(
            name: "vae",
            dependencies: [
                "TensorCore", "NN", "Optimizers", "Benchmarks", "Datasets", "VAE", "VAEModels", "VAEEvaluation", "Runs", "Visualization", "LatentTools", "Persistence",
                "ExplorerServer", "MessagePassing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/VAECommand"
        ),

        // MARK: - Fuzzing: the readers of untrusted input as libFuzzer targets (scripts/fuzz.sh)
        .target(name: "FuzzTargets", dependencies: ["Datasets", "SafeTensors", "VAE", "VAEModels", "Runs", "TensorCore", "Optimizers", "CPNG", "CTurboJPEG"]),
        .executableTarget(name: "FuzzCommand", dependencies: ["FuzzTargets"]),

        // MARK: - Tests
        .target(name: "_TestSupport", dependencies: ["TensorCore"], path: "Sources/_TestSupport"),
        .testTarget(name: "TensorCoreTests", dependencies: ["TensorCore", "_TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Optimizers", "TensorCore", "SafeTensors", "_TestSupport"]),
        .testTarget(name: "OptimizersTests", dependencies: ["Optimizers", "NN", "TensorCore"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors", "Persistence"]),
        .testTarget(name: "TensorBoardTests", dependencies: ["TensorBoard", "_TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "CZlib", "CPNG", "CTurboJPEG"], exclude: ["Fixtures"]),
        .testTarget(name: "VAETests", dependencies: ["VAE", "VAEModels", "VAEEvaluation", "Datasets", "NN", "TensorCore", "SafeTensors", "Optimizers", "_TestSupport"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "VisualizationTests", dependencies: ["Visualization", "Datasets", "CGif"], exclude: ["Fixtures"]),
        .testTarget(name: "LatentToolsTests", dependencies: ["LatentTools", "VAE", "VAEModels", "Visualization", "TensorCore", "Datasets", "SafeTensors"]),
        .testTarget(name: "CommandTests", dependencies: ["vae", "SafeTensors"]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets"]),
        .testTarget(name: "VAEToolkitTests", dependencies: ["VAEToolkit"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "CKernels", "TensorCore", "VAE", "VAEModels"]),
        .testTarget(name: "ExplorerServerTests", dependencies: [
            "ExplorerServer", "Runs", "NN", "VAE", "VAEModels", "Datasets", "TensorCore", "LatentTools",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "RunsTests", dependencies: ["Runs", "NN", "VAE", "VAEModels", "VAEEvaluation", "Datasets", "Visualization", "TensorCore", "CZlib", "SafeTensors", "Persistence", "LatentTools", "_TestSupport"]),
    ]
)
