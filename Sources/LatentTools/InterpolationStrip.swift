import VAE
import Visualization

extension LatentExplorer {
    /// A strip from one image to another: the first input, then the images decoded from `steps`
    /// latent vectors from μ(first) to μ(second) along `path` (both ends included), then the
    /// second input. One row of steps + 2 cells.
    /// A conditional model encodes each image with its own label (`imageLabels`, one each) and
    /// decodes the whole path with `label`.
    ///
    /// With `allGroups`, a hierarchical model (`LowerGroupDecoding`) moves every latent group
    /// along the path between the two images' codes (each group at its posterior mean given the
    /// groups above), and decodes from all of them; otherwise the lower groups take their prior
    /// means given the top.
    public func interpolationStrip(from first: [Float], to second: [Float], imageLabels: [Int] = [], steps: Int, path: InterpolationPath,
                                   scale: Int, allGroups: Bool = false) -> Picture {
        precondition(first.count == valuesPerImage && second.count == valuesPerImage, "interpolation needs two images of \(valuesPerImage) values")
        if allGroups, let hierarchical = model as? any LowerGroupDecoding {
            let codes = hierarchical.encodeGroups(images: first + second)
            let paths = zip(codes, hierarchical.latentGroups).map { latents, group in
                path.points(from: Array(latents[0..<group.size]), to: Array(latents[group.size...]), steps: steps).flatMap { $0 }
            }
            return grid([first] + split(hierarchical.decode(groupLatents: paths)) + [second], columns: steps + 2, scale: scale)
        }
        let codes = model.encode(images: first + second, labels: imageLabels.isEmpty ? labels(count: 2) : imageLabels)
        let latents = path.points(from: codes.mean(0), to: codes.mean(1), steps: steps)
        let decoded = split(decode(latents.flatMap { $0 }))
        return grid([first] + decoded + [second], columns: steps + 2, scale: scale)
    }
}
