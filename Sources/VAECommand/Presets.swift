import ArgumentParser
import Foundation
import VAE
import VAEModels

struct Presets: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Each preset's resolved settings: the defaults `vae train --preset NAME` starts from.",
        discussion: """
        Every setting shown can be overridden on `vae train` (see `vae train --help`). --json prints the configuration \
        exactly as a run's config.json records it.

        Examples: vae presets
                  vae presets cvae-mnist --json
        """)

    @Argument(help: "Only this preset.") var name: String?
    @Flag(help: "Print the configurations as JSON (an object keyed by preset name).") var json = false

    func validate() throws {
        if let name, Preset.named(name) == nil {
            throw ValidationError("unknown preset '\(name)'; presets: \(Preset.all.map(\.name).joined(separator: ", "))")
        }
    }

    func run() throws {
        let chosen = Preset.all.filter { name == nil || $0.name == name }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            var objects: [String: Any] = [:]
            for preset in chosen {
                objects[preset.name] = try JSONSerialization.jsonObject(with: try encoder.encode(preset.configuration))
            }
            let data = try JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        for preset in chosen {
            let c = preset.configuration
            print("\(preset.name): \(preset.summary)")
            print("  model         \(c.model.kind) \(c.model.architectureName), \(c.model.likelihood) likelihood\(c.model.conditionClasses.map { ", conditioned on \($0) classes" } ?? "")")
            print("  data          \(c.dataset), binarisation \(c.binarization.rawValue)")
            print("  objective     \(c.objective.summary); reconstruction \(c.reconstructionReduction.rawValue) over pixels, \(c.batchReduction.rawValue) over the batch")
            print("  optimizer     \(c.optimizer.rawValue), learning rate \(c.learningRate)\(c.optimizerEpsilon.map { ", epsilon \($0)" } ?? ""), schedule \(c.schedule.summary)")
            print("  training      batch \(c.batchSize), \(c.epochs) epoch\(c.epochs == 1 ? "" : "s"), seed \(c.seed), \(c.precision.rawValue), pictures every \(c.imagesEvery) epoch\(c.imagesEvery == 1 ? "" : "s")\(c.validationShare > 0 ? String(format: ", %.0f%% held out for validation", 100 * c.validationShare) : "")\(c.outputBias == .dataMean ? ", output bias from the mean training image" : "")")
            let extras = [c.patience.map { "early stopping after \($0) epochs without a lower validation loss" },
                          c.gradientClipNorm.map { "gradients clipped to norm \($0)" },
                          c.weightDecay.map { "weight decay \($0)" },
                          c.weightAverage.map { "weights averaged with decay \($0)" }].compactMap { $0 }
            if !extras.isEmpty { print("                " + extras.joined(separator: ", ")) }
        }
    }
}
