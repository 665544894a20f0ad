import Foundation
import VAE
import Visualization

/// Which plane of the latent space a scatter plot shows.
public enum LatentProjection: Equatable, Sendable {
    /// Two latent dimensions as they are.
    case dimensions(Int, Int)
    /// The first two principal components of the points' means.
    case principalComponents
}

extension LatentCodes {
    /// The means in a plane, coloured by label: the figure of designs A and D. With
    /// `.principalComponents` the axes are PC1 and PC2 and the title says so, with the share of
    /// variance each explains.
    public func scatterPlot(labels: [Int], classNames: [String], projection: LatentProjection, subject: String) -> ScatterPlot {
        precondition(labels.count == count, "\(count) codes need as many labels, got \(labels.count)")
        let xs: [Double], ys: [Double], title: String, xLabel: String, yLabel: String
        switch projection {
        case let .dimensions(first, second):
            precondition((0..<size).contains(first) && (0..<size).contains(second), "dimensions must lie in 0..<\(size)")
            xs = (0..<count).map { Double(means[$0 * size + first]) }
            ys = (0..<count).map { Double(means[$0 * size + second]) }
            (xLabel, yLabel) = ("z\(first)", "z\(second)")
            title = size == 2 ? "\(subject): means of q(z | x)" : "\(subject): means of q(z | x), dimensions \(first) and \(second) of \(size)"
        case .principalComponents:
            precondition(size >= 2, "PCA to a plane needs at least 2 latent dimensions")
            let pca = PrincipalComponents(rows: means, dimension: size)
            let plane = pca.project(means, components: 2)
            (xs, ys) = (plane[0], plane[1])
            let ratios = pca.explainedVarianceRatios
            xLabel = String(format: "PC1 (%.0f%% of variance)", 100 * ratios[0])
            yLabel = String(format: "PC2 (%.0f%%)", 100 * ratios[1])
            title = "\(subject): \(size)-d means of q(z | x), PCA"
        }
        return ScatterPlot(title: title, xLabel: xLabel, yLabel: yLabel, xs: xs, ys: ys, classes: labels, classNames: classNames)
    }

    /// The codes as CSV: a header, then one line per row: `index,label` (or `file` when `files` is
    /// given), then mu_0 ... mu_{d-1}, logvar_0 ... logvar_{d-1}, each Float in its shortest exact form.
    public func csv(labels: [Int]?, files: [String]? = nil) -> String {
        let first = files != nil ? "file" : labels != nil ? "index,label" : "index"
        var lines = [([first] + (0..<size).map { "mu_\($0)" } + (0..<size).map { "logvar_\($0)" }).joined(separator: ",")]
        for row in 0..<count {
            let key = files.map { quoted($0[row]) } ?? (labels.map { "\(row),\($0[row])" } ?? "\(row)")
            let values = means[(row * size)..<((row + 1) * size)].map { "\($0)" } + logVariances[(row * size)..<((row + 1) * size)].map { "\($0)" }
            lines.append(([key] + values).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func quoted(_ field: String) -> String {
        field.contains(where: { ",\"\n".contains($0) }) ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }
}
