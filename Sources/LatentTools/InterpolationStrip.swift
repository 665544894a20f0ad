import VAE
import Visualization

extension LatentExplorer {
    /// A strip from one image to another: the first input, then the images decoded from `steps`
    /// latent vectors from μ(first) to μ(second) along `path` (both ends included), then the
    /// second input. One row of steps + 2 cells.
    /// A conditional model encodes each image with its own label (`imageLabels`, one each) and
    /// decodes the whole path with `label`.
    public func interpolationStrip(from first: [Float], to second: [Float], imageLabels: [Int] = [], steps: Int, path: InterpolationPath,
                                   scale: Int) -> Picture {
        precondition(first.count == valuesPerImage && second.count == valuesPerImage, "interpolation needs two images of \(valuesPerImage) values")
        let codes = model.encode(images: first + second, labels: imageLabels.isEmpty ? labels(count: 2) : imageLabels)
        let latents = path.points(from: codes.mean(0), to: codes.mean(1), steps: steps)
        let decoded = split(decode(latents.flatMap { $0 }))
        return grid([first] + decoded + [second], columns: steps + 2, scale: scale)
    }
}
