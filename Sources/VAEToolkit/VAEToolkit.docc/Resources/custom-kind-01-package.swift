// swift-tools-version:6.0
// Package.swift of your package: it depends on the toolkit's library product only, so it
// resolves none of the `vae` command's packages.
import PackageDescription

let package = Package(
    name: "SkipKind",
    dependencies: [
        // A checkout beside your package; or .package(url: "https://…/VAEToolkit.git", branch: "main").
        .package(name: "VAEToolkit", path: "../vae-toolkit"),
    ],
    targets: [
        .executableTarget(name: "CustomModelKind", dependencies: [.product(name: "VAEToolkit", package: "VAEToolkit")]),
    ]
)
