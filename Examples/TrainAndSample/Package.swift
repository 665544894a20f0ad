// swift-tools-version:6.0
// An example package that depends on the toolkit as any other package would: by path here (the
// repository's root, two folders up); from elsewhere by URL. A path dependency's package identity
// is the last component of its path (here "vae-toolkit" would be wrong if the checkout's folder
// were named otherwise), so the product is named with `package:` set to that folder's name.
import PackageDescription

let package = Package(
    name: "TrainAndSample",
    dependencies: [.package(name: "VAEToolkit", path: "../..")],
    targets: [
        .executableTarget(name: "TrainAndSample", dependencies: [.product(name: "VAEToolkit", package: "VAEToolkit")]),
    ]
)
