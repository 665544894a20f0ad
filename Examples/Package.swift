// swift-tools-version:6.0
// Example programs in a package that depends on the toolkit as any other package would: by path
// here (the repository's root, one folder up); from elsewhere by URL. A path dependency's package
// identity is the last component of its path (the checkout's folder name), so `name:` fixes it
// to "VAEToolkit", the name the product lines use.
//
//   TrainAndSample      train a VAE on MNIST and decode samples from the prior
//   LoadAndInterpolate  load a run folder written by `vae train` and draw an interpolation
//   TrainOnFolder       train a convolutional VAE on a folder of your own PNG or JPEG pictures
//   CustomModelKind     define a model kind of your own, register it, and train, evaluate and sample it
import PackageDescription

let package = Package(
    name: "Examples",
    dependencies: [.package(name: "VAEToolkit", path: "..")],
    targets: [
        .executableTarget(name: "TrainAndSample", dependencies: [.product(name: "VAEToolkit", package: "VAEToolkit")]),
        .executableTarget(name: "LoadAndInterpolate", dependencies: [.product(name: "VAEToolkit", package: "VAEToolkit")]),
        .executableTarget(name: "TrainOnFolder", dependencies: [.product(name: "VAEToolkit", package: "VAEToolkit")]),
        .executableTarget(name: "CustomModelKind", dependencies: [.product(name: "VAEToolkit", package: "VAEToolkit")]),
    ]
)
